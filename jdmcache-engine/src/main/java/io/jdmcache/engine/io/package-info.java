/**
 * Bio processing: where every external request enters, is cut into cache-block pieces, locked, and sent where
 * its {@link io.jdmcache.engine.io.IoMode} says. Internal to the engine.
 */
package io.jdmcache.engine.io;
