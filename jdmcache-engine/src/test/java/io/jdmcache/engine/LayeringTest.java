package io.jdmcache.engine;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The layers inside the engine: the table line and options (this package's value types) → core (geometry,
 * block locks, discards, counters) → commit → migration → io (the I/O path and its modes) → control (open,
 * status, messages, clean shutdown) → the {@link CacheDevice} façade. A layer may use the ones below it only.
 * And one job per class: no source file of the engine is over {@link #MAX_LINES} lines.
 */
class LayeringTest {
    private static final String ENGINE = "io.jdmcache.engine";
    static final int MAX_LINES = 400;

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

    @Test
    void noEngineClassIsOverFourHundredLines() throws IOException {
        Path sources = Path.of("src/main/java", ENGINE.split("\\."));
        assertThat(sources).as("run from the engine module's directory").isDirectory();
        List<String> tooLong;
        try (Stream<Path> files = Files.walk(sources)) {
            tooLong = files.filter(f -> f.toString().endsWith(".java")).filter(f -> lines(f) > MAX_LINES)
                    .map(f -> sources.relativize(f) + " (" + lines(f) + " lines)").sorted().toList();
        }
        assertThat(tooLong).as("engine sources over " + MAX_LINES + " lines").isEmpty();
    }

    private static long lines(Path f) {
        try (Stream<String> l = Files.lines(f)) {
            return l.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
