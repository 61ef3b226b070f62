/**
 * The commit batcher: data devices forced, then the metadata committed; group commits; the gate that keeps a
 * metadata update whole. Internal to the engine.
 */
package io.jdmcache.engine.commit;
