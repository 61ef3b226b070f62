package io.jdmcache.engine;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

/**
 * The layers inside the engine: the table line and options (this package's value types) → core (geometry,
 * block locks, discards, counters) → commit → migration → io (the I/O path and its modes) → control (open,
 * status, messages, clean shutdown) → the {@link CacheDevice} façade. A layer may use the ones below it only.
 */
class LayeringTest {
    private static final String ENGINE = "io.jdmcache.engine";

    @Test
    void lowerLayersNeverUseHigherOnes() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ENGINE);
        DescribedPredicate<JavaClass> facade = DescribedPredicate.describe("the façade",
                c -> c.getPackageName().equals(ENGINE) && isFacade(c));
        DescribedPredicate<JavaClass> values = DescribedPredicate.describe("the table line and options",
                c -> c.getPackageName().equals(ENGINE) && !isFacade(c));
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("values").definedBy(values)
                .layer("core").definedBy(ENGINE + ".core..")
                .layer("commit").definedBy(ENGINE + ".commit..")
                .layer("migration").definedBy(ENGINE + ".migration..")
                .layer("io").definedBy(ENGINE + ".io..")
                .layer("control").definedBy(ENGINE + ".control..")
                .layer("facade").definedBy(facade)
                .whereLayer("facade").mayNotBeAccessedByAnyLayer()
                .whereLayer("control").mayOnlyBeAccessedByLayers("facade")
                .whereLayer("io").mayOnlyBeAccessedByLayers("control", "facade")
                .whereLayer("migration").mayOnlyBeAccessedByLayers("io", "control", "facade")
                .whereLayer("commit").mayOnlyBeAccessedByLayers("migration", "io", "control", "facade")
                .whereLayer("core").mayOnlyBeAccessedByLayers("commit", "migration", "io", "control", "facade")
                .check(classes);
    }

    private static boolean isFacade(JavaClass c) {
        return c.getName().equals(CacheDevice.class.getName()) || c.getName().startsWith(CacheDevice.class.getName() + "$");
    }
}
