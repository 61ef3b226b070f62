/**
 * The engine's lowest layer: block arithmetic, the striped block locks (the bio prison), the discard bits, the
 * counters, and the foreground activity the background side watches. Like every sub-package of the engine it
 * is internal (public only for the engine's other packages); the API is {@code io.jdmcache.engine.CacheDevice}.
 */
package io.jdmcache.engine.core;
