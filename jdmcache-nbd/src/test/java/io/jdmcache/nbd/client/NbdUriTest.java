package io.jdmcache.nbd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NbdUriTest {
    @Test
    void tcpForms() {
        NbdUri u = NbdUri.parse("nbd://example.com");
        assertThat(u.host()).isEqualTo("example.com");
        assertThat(u.port()).isEqualTo(10809);
        assertThat(u.export()).isEmpty();
        assertThat(u.isUnix()).isFalse();
        u = NbdUri.parse("nbd://127.0.0.1:2000/disk%201");
        assertThat(u.port()).isEqualTo(2000);
        assertThat(u.export()).isEqualTo("disk 1");
        assertThat(NbdUri.parse("nbd://h/").export()).isEmpty();
        assertThat(NbdUri.parse("nbd://h/a/b+c").export()).isEqualTo("a/b+c");
        u = NbdUri.parse("nbd://[::1]:10810/x");
        assertThat(u.host()).isEqualTo("::1");
        assertThat(u.port()).isEqualTo(10810);
    }

    @Test
    void unixForms() {
        NbdUri u = NbdUri.parse("nbd+unix:///?socket=/run/x.sock");
        assertThat(u.isUnix()).isTrue();
        assertThat(u.socket()).isEqualTo(Path.of("/run/x.sock"));
        assertThat(u.export()).isEmpty();
        u = NbdUri.parse("nbd+unix:///vol?socket=/tmp/a%20b");
        assertThat(u.export()).isEqualTo("vol");
        assertThat(u.socket()).isEqualTo(Path.of("/tmp/a b"));
    }

    @Test
    void refusedWithTheReason() {
        assertThatThrownBy(() -> NbdUri.parse("nbds://h/")).hasMessage("bad NBD URI 'nbds://h/': TLS (nbds://) is not supported");
        assertThatThrownBy(() -> NbdUri.parse("nbd+unix:///x")).hasMessageContaining("needs ?socket=PATH");
        assertThatThrownBy(() -> NbdUri.parse("nbd:///x")).hasMessageContaining("no host");
        assertThatThrownBy(() -> NbdUri.parse("nbd://h:0/")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> NbdUri.parse("nbd://h/?tls=on")).hasMessageContaining("TLS");
        assertThatThrownBy(() -> NbdUri.parse("nbd://h/?foo=1")).hasMessageContaining("unknown query parameter 'foo'");
        assertThatThrownBy(() -> NbdUri.parse("http://h/")).hasMessageContaining("unknown scheme 'http'");
        assertThatThrownBy(() -> NbdUri.parse("nbd://h /")).hasMessageContaining("not a valid URI");
        assertThatThrownBy(() -> NbdUri.parse("nbd+unix://host/?socket=/s")).hasMessageContaining("takes no host");
    }

    @Test
    void looksLikeUri() {
        assertThat(NbdUri.looksLikeUri("nbd://h")).isTrue();
        assertThat(NbdUri.looksLikeUri("nbd+unix:///?socket=s")).isTrue();
        assertThat(NbdUri.looksLikeUri("nbds://h")).isTrue();
        assertThat(NbdUri.looksLikeUri("/dev/sda")).isFalse();
        assertThat(NbdUri.looksLikeUri("nbd.img")).isFalse();
    }
}
