/**
 * The control side (the target's methods): open (the devices, the policy, the mappings and the discards), the
 * status line, target messages and the clean shutdown. Internal to the engine.
 */
package io.jdmcache.engine.control;
