/**
 * Migration processing (promote, demote, write back, merged write-backs, invalidate) and the background workers
 * that run it within the migration budget, with the commit timer. Internal to the engine.
 */
package io.jdmcache.engine.migration;
