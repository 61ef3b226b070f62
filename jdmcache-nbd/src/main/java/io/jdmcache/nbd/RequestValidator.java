package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdProtocol.*;

/**
 * The checks a transmission request passes before it reaches the backend, as a pure function of its header
 * and the export: the flags each command allows, read-only exports, FLUSH's zero range, READ and BLOCK_STATUS
 * lengths, the export's end and the minimum block size. The answer is the NBD error to reply with, or 0.
 */
final class RequestValidator {
    private RequestValidator() {
    }

    /**
     * @param size           the export's size
     * @param readOnly       whether the export is read-only
     * @param minBlock       the export's minimum block size (offsets and lengths must be multiples of it)
     * @param baseAllocation whether the client selected the base:allocation meta context
     * @return 0, or the error: EINVAL, EPERM or ENOSPC
     */
    static int validate(int type, int flags, long offset, long length, long size, boolean readOnly, int minBlock,
                        boolean baseAllocation) {
        int allowed;
        switch (type) {
            case CMD_READ:
                allowed = CMD_FLAG_FUA | CMD_FLAG_DF;
                break;
            case CMD_WRITE:
            case CMD_TRIM:
            case CMD_FLUSH:
            case CMD_CACHE:
                allowed = CMD_FLAG_FUA;
                break;
            case CMD_WRITE_ZEROES:
                allowed = CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO;
                break;
            case CMD_BLOCK_STATUS:
                allowed = CMD_FLAG_FUA | CMD_FLAG_REQ_ONE;
                break;
            default:
                return NbdErrorException.EINVAL;
        }
        if ((flags & ~allowed) != 0) {
            return NbdErrorException.EINVAL;
        }
        boolean writes = type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES;
        if (readOnly && writes) {
            return NbdErrorException.EPERM;
        }
        if (type == CMD_FLUSH) {
            return offset == 0 && length == 0 ? 0 : NbdErrorException.EINVAL;
        }
        if (type == CMD_READ && (length == 0 || length > MAX_PAYLOAD)) {
            return NbdErrorException.EINVAL;
        }
        if (type == CMD_BLOCK_STATUS && (length == 0 || !baseAllocation)) {
            return NbdErrorException.EINVAL;
        }
        if (Long.compareUnsigned(offset, size) > 0 || length > size - offset) {
            return type == CMD_WRITE || type == CMD_WRITE_ZEROES ? NbdErrorException.ENOSPC
                    : NbdErrorException.EINVAL;
        }
        if (minBlock > 1 && ((offset | length) & (minBlock - 1)) != 0) {
            return NbdErrorException.EINVAL;
        }
        return 0;
    }

    /** The message sent with {@code error} for a request of {@code type} that failed validation. */
    static String errorText(int error, int type) {
        switch (error) {
            case NbdErrorException.EPERM:
                return "export is read-only";
            case NbdErrorException.ENOSPC:
                return "request goes past the end of the export";
            default:
                return "invalid request (command " + type + ")";
        }
    }
}
