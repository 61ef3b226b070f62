package io.jdmcache.nbd;

/** Wire constants of the NBD protocol (doc/proto.md of the NBD project). All integers are big-endian. */
final class NbdProtocol {
    private NbdProtocol() {
    }

    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // handshake flags (server) and client flags
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 2;
    static final int FLAG_C_FIXED_NEWSTYLE = 1;
    static final int FLAG_C_NO_ZEROES = 2;

    // options
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_LIST_META_CONTEXT = 9;
    static final int OPT_SET_META_CONTEXT = 10;
    static final int OPT_EXTENDED_HEADERS = 11;

    // option replies
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_META_CONTEXT = 4;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_POLICY = 0x80000002;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_PLATFORM = 0x80000004;
    static final int REP_ERR_TLS_REQD = 0x80000005;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int REP_ERR_SHUTDOWN = 0x80000007;
    static final int REP_ERR_BLOCK_SIZE_REQD = 0x80000008;
    static final int REP_ERR_TOO_BIG = 0x80000009;

    // info types
    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_DESCRIPTION = 2;
    static final int INFO_BLOCK_SIZE = 3;

    // transmission flags
    static final int TF_HAS_FLAGS = 0x0001;
    static final int TF_READ_ONLY = 0x0002;
    static final int TF_SEND_FLUSH = 0x0004;
    static final int TF_SEND_FUA = 0x0008;
    static final int TF_ROTATIONAL = 0x0010;
    static final int TF_SEND_TRIM = 0x0020;
    static final int TF_SEND_WRITE_ZEROES = 0x0040;
    static final int TF_SEND_DF = 0x0080;
    static final int TF_CAN_MULTI_CONN = 0x0100;
    static final int TF_SEND_CACHE = 0x0400;
    static final int TF_SEND_FAST_ZERO = 0x0800;

    // commands
    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_CACHE = 5;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_BLOCK_STATUS = 7;

    // command flags
    static final int CMD_FLAG_FUA = 0x01;
    static final int CMD_FLAG_NO_HOLE = 0x02;
    static final int CMD_FLAG_DF = 0x04;
    static final int CMD_FLAG_REQ_ONE = 0x08;
    static final int CMD_FLAG_FAST_ZERO = 0x10;

    // structured reply chunk types and flags
    static final int REPLY_FLAG_DONE = 1;
    static final int REPLY_TYPE_NONE = 0;
    static final int REPLY_TYPE_OFFSET_DATA = 1;
    static final int REPLY_TYPE_OFFSET_HOLE = 2;
    static final int REPLY_TYPE_BLOCK_STATUS = 5;
    static final int REPLY_TYPE_ERROR = 0x8001;

    static final String BASE_ALLOCATION = "base:allocation";
    /** The context id this server gives base:allocation after NBD_OPT_SET_META_CONTEXT. */
    static final int BASE_ALLOCATION_ID = 1;

    /** Largest WRITE payload / READ length served (2^25, the interoperable maximum). */
    static final int MAX_PAYLOAD = 32 << 20;
    /** Largest option payload read; longer ones are skipped with NBD_REP_ERR_TOO_BIG. */
    static final int MAX_OPTION = 64 << 10;
    /** Longer option payloads are not even skipped: the connection is dropped. */
    static final int MAX_OPTION_SKIP = 16 << 20;
    /** Most extents in one block-status chunk. */
    static final int MAX_EXTENTS = 1 << 20;
}
