package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdErrorException.EINVAL;
import static io.jdmcache.nbd.NbdErrorException.ENOSPC;
import static io.jdmcache.nbd.NbdErrorException.EPERM;
import static io.jdmcache.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The request checks as the pure function they are: one request header and export at a time. */
class RequestValidatorTest {
    static final long SIZE = 1 << 20;

    static int check(int type, int flags, long offset, long length) {
        return RequestValidator.validate(type, flags, offset, length, SIZE, false, 1, true);
    }

    @Test
    void flagsEachCommandAllows() {
        assertThat(check(CMD_READ, CMD_FLAG_DF | CMD_FLAG_FUA, 0, 4096)).isZero();
        assertThat(check(CMD_WRITE, CMD_FLAG_DF, 0, 4096)).isEqualTo(EINVAL);
        assertThat(check(CMD_WRITE_ZEROES, CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO, 0, 4096)).isZero();
        assertThat(check(CMD_TRIM, CMD_FLAG_NO_HOLE, 0, 4096)).isEqualTo(EINVAL);
        assertThat(check(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 0, 4096)).isZero();
        assertThat(check(99, 0, 0, 0)).as("unknown command").isEqualTo(EINVAL);
    }

    @Test
    void rangesLengthsAndTheExportsEnd() {
        assertThat(check(CMD_FLUSH, 0, 0, 0)).isZero();
        assertThat(check(CMD_FLUSH, 0, 0, 1)).isEqualTo(EINVAL);
        assertThat(check(CMD_READ, 0, 0, 0)).as("an empty read").isEqualTo(EINVAL);
        assertThat(check(CMD_READ, 0, 0, MAX_PAYLOAD + 1L)).isEqualTo(EINVAL);
        assertThat(check(CMD_READ, 0, SIZE - 4096, 4096)).isZero();
        assertThat(check(CMD_READ, 0, SIZE - 4096, 8192)).isEqualTo(EINVAL);
        assertThat(check(CMD_WRITE, 0, SIZE - 4096, 8192)).as("a write past the end").isEqualTo(ENOSPC);
        assertThat(check(CMD_WRITE_ZEROES, 0, SIZE + 1, 0)).isEqualTo(ENOSPC);
        assertThat(check(CMD_TRIM, 0, -1L, 1)).as("an offset beyond 2^63").isEqualTo(EINVAL);
    }

    @Test
    void readOnlyExportsBlockStatusAndTheMinimumBlock() {
        assertThat(RequestValidator.validate(CMD_WRITE, 0, 0, 4096, SIZE, true, 1, true)).isEqualTo(EPERM);
        assertThat(RequestValidator.validate(CMD_TRIM, 0, 0, 4096, SIZE, true, 1, true)).isEqualTo(EPERM);
        assertThat(RequestValidator.validate(CMD_READ, 0, 0, 4096, SIZE, true, 1, true)).isZero();
        assertThat(RequestValidator.validate(CMD_BLOCK_STATUS, 0, 0, 4096, SIZE, false, 1, false))
                .as("base:allocation not selected").isEqualTo(EINVAL);
        assertThat(RequestValidator.validate(CMD_READ, 0, 512, 4096, SIZE, false, 4096, true)).isEqualTo(EINVAL);
        assertThat(RequestValidator.validate(CMD_READ, 0, 4096, 4096, SIZE, false, 4096, true)).isZero();
        assertThat(RequestValidator.errorText(EPERM, CMD_WRITE)).isEqualTo("export is read-only");
        assertThat(RequestValidator.errorText(EINVAL, CMD_READ)).isEqualTo("invalid request (command 0)");
    }
}
