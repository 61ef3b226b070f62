package io.jdmcache.metadata;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One shared, reference-counted CacheMetadata per metadata device. */
class MetadataRegistryTest {

    static Path metadataFile(Path dir, String name) throws Exception {
        Path f = dir.resolve(name);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(4 << 20);
        }
        return f;
    }

    @Test
    void theSameDeviceGivesTheSameObjectByAnyPath(@TempDir Path dir) throws Exception {
        MetadataRegistry reg = new MetadataRegistry();
        Path f = metadataFile(dir, "meta");
        Path sym = Files.createSymbolicLink(dir.resolve("sym"), f);
        Path hard = Files.createLink(dir.resolve("hard"), f);
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path dotted = sub.resolve("..").resolve("meta");

        CacheMetadata a = reg.open(f, MetadataOptions.readWrite(128));
        a.resize(10);
        a.insertMapping(3, 33);
        assertThat(reg.open(f, MetadataOptions.readWrite(128))).isSameAs(a);
        assertThat(reg.open(sym, MetadataOptions.readWrite(128))).isSameAs(a);
        assertThat(reg.open(hard, MetadataOptions.readWrite(0))).as("0 accepts the stored size").isSameAs(a);
        assertThat(reg.open(dotted, MetadataOptions.readWrite(128).withFormatVersion(2)))
                .as("other options of a second open are ignored").isSameAs(a);
        assertThat(a.version()).isEqualTo(1);
        assertThat(reg.openDevices()).isEqualTo(1);
        // the holders share the uncommitted transaction too
        assertThat(reg.open(sym, MetadataOptions.readWrite(128)).mappingValue(3)).isEqualTo(Mapping.pack(33, 1));

        Path other = metadataFile(dir, "other");
        CacheMetadata b = reg.open(other, MetadataOptions.readWrite(128));
        assertThat(b).isNotSameAs(a);
        assertThat(reg.openDevices()).isEqualTo(2);
        b.close();
        for (int i = 0; i < 6; i++) {
            a.close();
        }
        assertThat(reg.openDevices()).isZero();
    }

    @Test
    void aDifferentDataBlockSizeIsRefusedNamingBoth(@TempDir Path dir) throws Exception {
        MetadataRegistry reg = new MetadataRegistry();
        Path f = metadataFile(dir, "meta");
        CacheMetadata a = reg.open(f, MetadataOptions.readWrite(128));
        assertThatThrownBy(() -> reg.open(f, MetadataOptions.readWrite(256)))
                .isInstanceOf(InvalidSuperblockException.class)
                .hasMessageContaining("from 128 to 256");
        // the refused open took no reference: one close frees the object
        a.close();
        assertThat(reg.openDevices()).isZero();
        // and on disk the size is refused the same way
        assertThatThrownBy(() -> reg.open(f, MetadataOptions.readWrite(512)))
                .isInstanceOf(InvalidSuperblockException.class).hasMessageContaining("from 128 to 512");
        assertThat(reg.openDevices()).isZero();
    }

    @Test
    void closeFreesAtZeroAndAThirdCloseDoesNothing(@TempDir Path dir) throws Exception {
        MetadataRegistry reg = new MetadataRegistry();
        Path f = metadataFile(dir, "meta");
        CacheMetadata a = reg.open(f, MetadataOptions.readWrite(128));
        CacheMetadata a2 = reg.open(f, MetadataOptions.readWrite(128));
        assertThat(a2).isSameAs(a);
        a.resize(5);
        a.commit(true);
        a.close();
        assertThat(reg.openDevices()).as("one holder left").isOne();
        assertThat(a2.cacheBlocks()).isEqualTo(5);
        a2.close();
        assertThat(reg.openDevices()).isZero();
        assertThatThrownBy(a::cacheBlocks).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");

        // a new open gets a new object; a stray third close of the old one must not touch it
        CacheMetadata b = reg.open(f, MetadataOptions.readWrite(128));
        assertThat(b).isNotSameAs(a);
        a.close();
        assertThat(reg.openDevices()).isOne();
        assertThat(b.cacheBlocks()).isEqualTo(5);
        assertThat(b.cleanWhenOpened()).isTrue();
        assertThat(reg.open(f, MetadataOptions.readWrite(128))).isSameAs(b);
        b.close();
        b.close();
        assertThat(reg.openDevices()).isZero();
    }

    @Test
    void aWriterCannotShareAReadOnlyOpening(@TempDir Path dir) throws Exception {
        MetadataRegistry reg = new MetadataRegistry();
        Path f = metadataFile(dir, "meta");
        reg.open(f, MetadataOptions.readWrite(128)).close();
        CacheMetadata ro = reg.open(f, Images.readOnly());
        assertThatThrownBy(() -> reg.open(f, MetadataOptions.readWrite(128)))
                .isInstanceOf(MetadataModeException.class).hasMessageContaining("read-only");
        assertThat(reg.open(f, Images.readOnly())).isSameAs(ro);
        ro.close();
        ro.close();
        assertThat(reg.openDevices()).isZero();
    }

    @Test
    void referenceCountsNeitherOverflowNorGoBelowZero() {
        RefCount r = new RefCount(Integer.MAX_VALUE - 1);
        r.retain("x");
        assertThat(r.count()).isEqualTo(Integer.MAX_VALUE);
        assertThatThrownBy(() -> r.retain("the metadata of x")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("too many holders of the metadata of x");
        assertThat(r.count()).as("a refused retain changes nothing").isEqualTo(Integer.MAX_VALUE);
        assertThat(r.release()).isEqualTo(Integer.MAX_VALUE - 1);

        RefCount one = new RefCount(1);
        assertThat(one.release()).isZero();
        assertThat(one.release()).as("nothing left to release").isEqualTo(-1);
        assertThat(one.count()).isZero();
        assertThatThrownBy(() -> one.retain("y")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already released");
        assertThatThrownBy(() -> new RefCount(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
