// swift-tools-version: 6.1
import PackageDescription

/// One set of compiler settings for every target: Swift 6 language mode (strict concurrency)
/// plus the upcoming features the Swift server community builds with.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Areo",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "areo", targets: ["AreoCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // MARK: Pure layers (no database, no server)

        /// Pass files, space packets, CRCs, the spacecraft clock, fragments, housekeeping, plans.
        .target(
            name: "AreoTelemetry",
            dependencies: [],
            swiftSettings: swiftSettings
        ),

        /// Dedicated threads for CPU-heavy and blocking work (a `TaskExecutor`, blocking calls,
        /// parallel loops), so renders never run on the threads that serve requests.
        .target(
            name: "AreoCompute",
            dependencies: [],
            swiftSettings: swiftSettings
        ),

        /// C libraries from Debian's -dev packages, wrapped by AreoCodecs (no C type leaks further).
        .systemLibrary(name: "CAEC", providers: [.apt(["libaec-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),

        /// Image codecs: CCSDS 121.0 (libaec), JPEG (libjpeg-turbo), PNG (libpng), GeoTIFF (libtiff);
        /// fragment payloads to samples (ICD §4).
        .target(
            name: "AreoCodecs",
            dependencies: ["AreoTelemetry", "AreoCompute", "CAEC", "CTurboJPEG", "CPNG", "CZlib", "CTIFF"],
            swiftSettings: swiftSettings
        ),

        /// Geometry kernels (ICD §7), the camera model (ICD §8), ray–ellipsoid geometry and map projections.
        .target(
            name: "AreoGeometry",
            dependencies: ["AreoTelemetry"],
            swiftSettings: swiftSettings
        ),

        /// Every value a request carries, read through one rule with its range (query parameters,
        /// spans, names, boxes): pure, so the fuzzer reaches it.
        .target(
            name: "AreoQuery",
            dependencies: ["AreoTelemetry", "AreoGeometry"],
            swiftSettings: swiftSettings
        ),

        /// Calibration sets (ICD §9); later radiometric calibration DN → I/F.
        .target(
            name: "AreoRadiometry",
            dependencies: ["AreoTelemetry"],
            swiftSettings: swiftSettings
        ),

        /// On-demand processing: decode, calibrate, project, mosaic, composite (pure; no database).
        .target(
            name: "AreoProcessing",
            dependencies: ["AreoTelemetry", "AreoGeometry", "AreoRadiometry", "AreoCodecs", "AreoCompute"],
            swiftSettings: swiftSettings
        ),

        /// Products from the archive: the processing inputs that apply, fragments loaded one at
        /// a time, encoded files with their labels.
        .target(
            name: "AreoProducts",
            dependencies: ["AreoProcessing", "AreoArchive", "AreoTelemetry", "AreoGeometry", "AreoRadiometry", "AreoCompute",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),

        /// Delivery of products: the LRU disk cache, the render scheduler (priorities, coalescing,
        /// cancellation), prefetch, regeneration and metrics. No HTTP.
        .target(
            name: "AreoDelivery",
            dependencies: [
                "AreoProducts", "AreoProcessing", "AreoArchive", "AreoTelemetry", "AreoGeometry", "AreoCompute",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        /// PDS4 export: bundles, collections, labels, versions, delivery manifests and their check.
        .target(
            name: "AreoExport",
            dependencies: [
                "AreoProducts", "AreoProcessing", "AreoArchive", "AreoTelemetry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        /// `areo simulate`: a whole ICD-conformant mission with its ground truth (pure).
        .target(
            name: "AreoSimulator",
            dependencies: ["AreoTelemetry", "AreoGeometry", "AreoRadiometry", "AreoCodecs"],
            swiftSettings: swiftSettings
        ),


        // MARK: The archive

        /// The archive: PostgreSQL (connection pool, migrations, the embedded cluster) and every
        /// table through its repository — telemetry ingest (passes, packets, fragments,
        /// housekeeping, anomalies), processing inputs, plans, the observation catalogue, reports,
        /// access tokens, export records — and the one load path (`ArchiveLoads`). No SQL lives
        /// outside this module.
        .target(
            name: "AreoArchive",
            dependencies: [
                "AreoTelemetry", "AreoGeometry", "AreoRadiometry", "AreoProcessing", "AreoCompute",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Application layers


        /// The HTTP server (Hummingbird 2).
        .target(
            name: "AreoServer",
            dependencies: [
                "AreoArchive",
                "AreoProducts",
                "AreoDelivery",
                "AreoExport",
                "AreoProcessing",
                "AreoGeometry",
                "AreoTelemetry",
                "AreoRadiometry",
                "AreoQuery",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        /// The `areo` command: argument parsing and wiring only.
        .executableTarget(
            name: "AreoCLI",
            dependencies: [
                "AreoTelemetry",
                "AreoGeometry",
                "AreoRadiometry",
                "AreoArchive",
                "AreoProcessing",
                "AreoProducts",
                "AreoSimulator",
                "AreoServer",
                "AreoDelivery",
                "AreoExport",
                "AreoQuery",
                "AreoCompute",
                "AreoCodecs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests

        /// Helpers the integration tests share: test databases, sample and binary locations.
        .target(
            name: "AreoTestSupport",
            dependencies: [
                "AreoArchive", "AreoTelemetry", "AreoGeometry", "AreoRadiometry", "AreoProcessing", "AreoProducts",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/AreoTestSupport",
            swiftSettings: swiftSettings
        ),
        /// One entry point per parser of outside data, shared by the libFuzzer harness
        /// (`Fuzz/`, built by `scripts/fuzz`) and the regression tests. Pure layers only.
        .target(
            name: "AreoFuzzTargets",
            dependencies: ["AreoTelemetry", "AreoCodecs", "AreoGeometry", "AreoRadiometry", "AreoQuery", "AreoProcessing"],
            path: "Tests/AreoFuzzTargets",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoFuzzTargetsTests",
            dependencies: ["AreoFuzzTargets", "AreoTelemetry", "AreoQuery", "AreoRadiometry", "AreoGeometry"],
            exclude: ["Regressions"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoComputeTests",
            dependencies: ["AreoCompute"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoTelemetryTests",
            dependencies: ["AreoTelemetry"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoCodecsTests",
            dependencies: ["AreoCodecs", "AreoTelemetry", "AreoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoRadiometryTests",
            dependencies: ["AreoRadiometry", "AreoTelemetry", "AreoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoGeometryTests",
            dependencies: ["AreoGeometry", "AreoTelemetry", "AreoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoProcessingTests",
            dependencies: ["AreoProcessing", "AreoGeometry", "AreoRadiometry", "AreoCodecs", "AreoTelemetry", "AreoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoProductsTests",
            dependencies: ["AreoProducts", "AreoProcessing", "AreoArchive", "AreoTelemetry", "AreoGeometry", "AreoRadiometry", "AreoTestSupport",
                           .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoSimulatorTests",
            dependencies: [
                "AreoSimulator", "AreoGeometry", "AreoRadiometry", "AreoCodecs", "AreoTelemetry", "AreoTestSupport", "AreoProcessing",
                "AreoArchive", "AreoProducts", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoArchiveTests",
            dependencies: [
                "AreoArchive", "AreoTestSupport", "AreoTelemetry", "AreoGeometry", "AreoRadiometry", "AreoProcessing",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoExportTests",
            dependencies: [
                "AreoExport", "AreoProducts", "AreoArchive", "AreoTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoDeliveryTests",
            dependencies: [
                "AreoDelivery", "AreoTestSupport", "AreoProducts", "AreoProcessing", "AreoArchive", "AreoTelemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AreoServerTests",
            dependencies: [
                "AreoServer", "AreoArchive", "AreoGeometry", "AreoTestSupport", "AreoDelivery", "AreoExport", "AreoProducts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
