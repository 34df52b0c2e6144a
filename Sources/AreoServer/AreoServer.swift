import AreoTelemetry
import AreoGeometry
import AreoDelivery
import AreoProducts
import AreoArchive
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds Areo's HTTP application.
public enum AreoServer {
    /// The application with its services: the database pool (runs first, stops last), the
    /// render worker pool, the catalogue watcher that regenerates products after loads, and
    /// (unless turned off) the followers that estimate corrections and refine geometry as
    /// observations complete.
    ///
    /// - Parameters:
    ///   - configuration: where to listen, the cache, the worker pool.
    ///   - database: the shared connection pool.
    ///   - migrations: applied before the server accepts requests; `/readyz` expects them applied.
    ///   - logger: the server's logger; each request gets a child with its request id.
    public static func makeApplication(
        configuration: ServerConfiguration,
        database: Database,
        migrations: [Migration],
        logger: Logger
    ) async throws -> (application: some ApplicationProtocol, delivery: ProductDelivery) {
        let delivery = try await makeDelivery(configuration: configuration, database: database, logger: logger)
        let router = makeRouter(configuration: configuration, database: database, delivery: delivery, migrations: migrations)
        var services: [any Service] = [database, delivery.scheduler, CatalogueWatcher(delivery: delivery, logger: logger, interval: configuration.catalogPollInterval)]
        let products = ProductService(database: database, logger: logger, corrections: configuration.corrections)
        if configuration.automaticCorrections {
            services.append(CatalogueFollower.corrections(products: products, database: database, logger: logger, interval: configuration.catalogPollInterval))
        }
        if configuration.automaticRefinement {
            let refinement = GeometryRefinementService(products: products, logger: logger)
            services.append(CatalogueFollower.refinement(service: refinement, database: database, logger: logger, interval: configuration.catalogPollInterval))
        }
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "areo"),
            services: services,
            logger: logger)
        // The schema is brought up to date once the pool runs and before the first request.
        // Every load refreshes the catalogue itself (ArchiveLoads), so only a migration — which
        // may change what a row holds — makes the server rebuild all of it.
        app.beforeServerStarts {
            let migrated = try await MigrationRunner(client: database.client, logger: logger).migrate(migrations)
            if !migrated.applied.isEmpty { try await ObservationCatalog(database: database, logger: logger).refresh(.all) }
            try await delivery.regenerateIfChanged()  // records the starting generation
        }
        return (app, delivery)
    }

    /// The cache, the scheduler and the metrics behind the product routes.
    public static func makeDelivery(configuration: ServerConfiguration, database: Database, logger: Logger) async throws -> ProductDelivery {
        let metrics = DeliveryMetrics()
        let cache = try ProductCache(directory: URL(fileURLWithPath: configuration.cacheDirectory), budgetBytes: configuration.cacheBytes, logger: logger)
        let scheduler = RenderScheduler(workers: configuration.renderWorkers, logger: logger) { state, priority in
            metrics.render(state, priority: priority)
        }
        return await ProductDelivery(
            database: database, cache: cache, scheduler: scheduler, metrics: metrics,
            configuration: .init(neighbours: configuration.prefetchNeighbours, maximumMosaicPixels: configuration.maximumMosaicPixels,
                                 fragmentMemoryBytes: configuration.fragmentMemoryBytes, corrections: configuration.corrections), logger: logger)
    }

    /// The routes and middleware (docs/openapi.yaml describes every route).
    public static func makeRouter(
        configuration: ServerConfiguration, database: Database, delivery: ProductDelivery, migrations: [Migration]
    ) -> Router<AreoRequestContext> {
        let router = Router(context: AreoRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: MetricsMiddleware(metrics: delivery.metrics))
        router.add(middleware: ProblemMiddleware())
        let sessions = SignInSessions()
        let authentication = AuthenticationMiddleware(tokens: AccessTokens(database: database, logger: Logger(label: "areo.auth")), sessions: sessions)
        router.add(middleware: authentication)
        let limits = ClientLimits(.init(
            requestsPerSecond: configuration.requestsPerSecond, burst: configuration.requestBurst, coldRendersPerClient: configuration.coldRendersPerClient))
        router.add(middleware: RateLimitMiddleware(limits: limits))
        HealthController(database: database, migrations: migrations).addRoutes(to: router)
        BrowsePage(leafletDirectory: configuration.leafletDirectory).addRoutes(to: router)
        DemoPage(delivery: delivery).addRoutes(to: router)
        let v1 = router.group("/v1")
        let uploads = URL(fileURLWithPath: configuration.uploadDirectory)
        TelemetryController(database: database, delivery: delivery, maximumUploadBytes: configuration.maximumUploadBytes, uploadDirectory: uploads,
                            corrections: configuration.corrections).addRoutes(to: v1)
        InputsController(database: database, delivery: delivery, uploadDirectory: uploads).addRoutes(to: v1)
        GeometryController(database: database, delivery: delivery, refinement: GeometryRefinementService(
            products: ProductService(database: database, logger: Logger(label: "areo.refinement"), corrections: configuration.corrections),
            logger: Logger(label: "areo.refinement"))).addRoutes(to: v1)
        ObservationController(database: database, delivery: delivery, limits: limits).addRoutes(to: v1)
        DeliveryController(delivery: delivery).addRoutes(to: v1, root: router)
        ExportController(database: database, delivery: delivery, exportDirectory: URL(fileURLWithPath: configuration.exportDirectory)).addRoutes(to: v1)
        let tileLimits = ClientLimits(.init(requestsPerSecond: 0, burst: 1, coldRendersPerClient: configuration.coldTilesPerClient))
        SessionController(authentication: authentication, sessions: sessions).addRoutes(to: v1)
        TilesController(delivery: delivery, tileLimits: tileLimits).addRoutes(to: v1)
        return router
    }
}
