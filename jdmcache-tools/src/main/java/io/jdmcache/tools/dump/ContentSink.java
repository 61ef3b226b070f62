package io.jdmcache.tools.dump;

import java.io.IOException;

/**
 * Receives what {@link MetadataReader} reads, in document order: the header, every mapping in ascending
 * cache-block order, the hints of the mapped blocks, the discarded ranges, the end. Dump writes it as XML,
 * repair builds fresh metadata from it.
 */
public interface ContentSink {
    void begin(Header h) throws IOException;

    void mapping(long cblock, long oblock, boolean dirty) throws IOException;

    void endMappings() throws IOException;

    /** The 4 hint bytes of a mapped block, as stored (little-endian value). */
    void hint(long cblock, int hint) throws IOException;

    void endHints() throws IOException;

    /** Discard blocks [begin, end) are discarded; ranges come in ascending order, never adjacent. */
    void discard(long begin, long end) throws IOException;

    void end() throws IOException;
}
