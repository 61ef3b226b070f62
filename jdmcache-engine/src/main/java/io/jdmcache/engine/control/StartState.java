package io.jdmcache.engine.control;

/**
 * How a cache's metadata was found when it was opened: whether the last stop was clean and, if not, whether the
 * committed dirty bits could be trusted (jdmcache's exact-dirty marker) or every mapped block had to be taken as
 * dirty, the kernel's rule after a crash; with the mapped and dirty counts as loaded.
 */
public record StartState(boolean cleanShutdown, boolean exactDirty, int mapped, int dirty) {

    /** One line for the operator's log, or null when there is nothing to say (a clean stop, an empty cache). */
    public String describe() {
        if (cleanShutdown || mapped == 0) {
            return null;
        }
        if (exactDirty) {
            return "the last stop was not clean; the dirty bits of the last commit are exact, so " + dirty + " of "
                    + mapped + " cached blocks are dirty and only those will be written back";
        }
        return "the last stop was not clean and the metadata has no exact dirty bits, so all " + mapped
                + " cached blocks are taken as dirty and will be written back, as the kernel does";
    }
}
