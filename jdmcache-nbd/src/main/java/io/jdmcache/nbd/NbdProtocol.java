package io.jdmcache.nbd;

/** Wire constants of the NBD protocol (doc/proto.md of the NBD project). All integers are big-endian. */
public final class NbdProtocol {
    private NbdProtocol() {
    }

    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    /** What an oldstyle server sends where a newstyle one sends IHAVEOPT. */
    public static final long OLDSTYLE_MAGIC = 0x00420281861253L;
    public static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // handshake flags (server) and client flags
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 2;
    public static final int FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int FLAG_C_NO_ZEROES = 2;

    // options
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;
    public static final int OPT_EXTENDED_HEADERS = 11;

    // option replies
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_ERR_UNSUP = 0x80000001;
    public static final int REP_ERR_POLICY = 0x80000002;
    public static final int REP_ERR_INVALID = 0x80000003;
    public static final int REP_ERR_PLATFORM = 0x80000004;
    public static final int REP_ERR_TLS_REQD = 0x80000005;
    public static final int REP_ERR_UNKNOWN = 0x80000006;
    public static final int REP_ERR_SHUTDOWN = 0x80000007;
    public static final int REP_ERR_BLOCK_SIZE_REQD = 0x80000008;
    public static final int REP_ERR_TOO_BIG = 0x80000009;

    // info types
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // transmission flags
    public static final int TF_HAS_FLAGS = 0x0001;
    public static final int TF_READ_ONLY = 0x0002;
    public static final int TF_SEND_FLUSH = 0x0004;
    public static final int TF_SEND_FUA = 0x0008;
    public static final int TF_ROTATIONAL = 0x0010;
    public static final int TF_SEND_TRIM = 0x0020;
    public static final int TF_SEND_WRITE_ZEROES = 0x0040;
    public static final int TF_SEND_DF = 0x0080;
    public static final int TF_CAN_MULTI_CONN = 0x0100;
    public static final int TF_SEND_CACHE = 0x0400;
    public static final int TF_SEND_FAST_ZERO = 0x0800;

    // commands
    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_CACHE = 5;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;

    // command flags
    public static final int CMD_FLAG_FUA = 0x01;
    public static final int CMD_FLAG_NO_HOLE = 0x02;
    public static final int CMD_FLAG_DF = 0x04;
    public static final int CMD_FLAG_REQ_ONE = 0x08;
    public static final int CMD_FLAG_FAST_ZERO = 0x10;

    // structured reply chunk types and flags
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0;
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    public static final int REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int REPLY_TYPE_ERROR = 0x8001;
    public static final int REPLY_TYPE_ERROR_OFFSET = 0x8002;

    public static final String BASE_ALLOCATION = "base:allocation";
    /** The context id this server gives base:allocation after NBD_OPT_SET_META_CONTEXT. */
    public static final int BASE_ALLOCATION_ID = 1;

    /** Largest WRITE payload / READ length served (2^25, the interoperable maximum). */
    public static final int MAX_PAYLOAD = 32 << 20;
    /** Largest option payload read; longer ones are skipped with NBD_REP_ERR_TOO_BIG. */
    public static final int MAX_OPTION = 64 << 10;
    /** Longer option payloads are not even skipped: the connection is dropped. */
    public static final int MAX_OPTION_SKIP = 16 << 20;
    /** Most extents in one block-status chunk. */
    public static final int MAX_EXTENTS = 1 << 20;
}
