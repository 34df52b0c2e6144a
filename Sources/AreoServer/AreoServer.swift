import AreoStore
import Foundation
import Hummingbird
import Logging

/// Builds Areo's HTTP application.
public enum AreoServer {
    /// The application, with the database pool among its services (it runs first and stops last).
    ///
    /// - Parameters:
    ///   - configuration: where to listen.
    ///   - database: the shared connection pool.
    ///   - migrations: applied before the server accepts requests; `/readyz` expects them applied.
    ///   - logger: the server's logger; each request gets a child with its request id.
    public static func makeApplication(
        configuration: ServerConfiguration,
        database: Database,
        migrations: [Migration],
        logger: Logger
    ) -> Application<RouterResponder<BasicRequestContext>> {
        let router = makeRouter(configuration: configuration, database: database, migrations: migrations)
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "areo"),
            services: [database],
            logger: logger)
        // The schema is brought up to date once the pool runs and before the first request.
        app.beforeServerStarts {
            try await MigrationRunner(client: database.client, logger: logger).migrate(migrations)
        }
        return app
    }

    /// The routes and middleware (docs/openapi.yaml describes every route).
    public static func makeRouter(
        configuration: ServerConfiguration, database: Database, migrations: [Migration]
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: ProblemMiddleware())
        HealthController(database: database, migrations: migrations).addRoutes(to: router)
        TelemetryController(
            database: database, maximumUploadBytes: configuration.maximumUploadBytes,
            uploadDirectory: URL(fileURLWithPath: configuration.uploadDirectory))
            .addRoutes(to: router.group("/v1"))
        return router
    }
}
