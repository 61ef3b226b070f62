package io.jdmcache.pdata;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

/**
 * The layers inside pdata: io → block → node (on-disk node layout, read-only walks, bulk build) → space
 * map → transaction manager → btree → array → bitset. A layer may use the ones below it only.
 */
class LayeringTest {
    @Test
    void lowerLayersNeverUseHigherOnes() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.jdmcache.pdata");
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("io").definedBy("io.jdmcache.pdata.io..")
                .layer("block").definedBy("io.jdmcache.pdata.block..")
                .layer("node").definedBy("io.jdmcache.pdata.node..")
                .layer("sm").definedBy("io.jdmcache.pdata.sm..")
                .layer("tm").definedBy("io.jdmcache.pdata.tm..")
                .layer("btree").definedBy("io.jdmcache.pdata.btree..")
                .layer("array").definedBy("io.jdmcache.pdata.array..")
                .layer("bitset").definedBy("io.jdmcache.pdata.bitset..")
                .whereLayer("bitset").mayNotBeAccessedByAnyLayer()
                .whereLayer("array").mayOnlyBeAccessedByLayers("bitset")
                .whereLayer("btree").mayOnlyBeAccessedByLayers("array", "bitset")
                .whereLayer("tm").mayOnlyBeAccessedByLayers("btree", "array", "bitset")
                .whereLayer("sm").mayOnlyBeAccessedByLayers("tm", "btree", "array", "bitset")
                .whereLayer("node").mayOnlyBeAccessedByLayers("sm", "tm", "btree", "array", "bitset")
                .whereLayer("block").mayOnlyBeAccessedByLayers("node", "sm", "tm", "btree", "array", "bitset")
                .check(classes);
    }
}
