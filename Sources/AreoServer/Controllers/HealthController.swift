import AreoTelemetry
import AreoGeometry
import AreoArchive
import Foundation
import Hummingbird
import Logging

/// Liveness and readiness.
///
/// `/healthz` answers as long as the process serves HTTP. `/readyz` answers 200 only when the
/// database is reachable and every migration is applied, 503 otherwise; it recovers by itself
/// when the database comes back (the connection pool reconnects).
struct HealthController: Sendable {
    let database: Database
    let migrations: [Migration]

    struct Health: ResponseEncodable {
        let status: String
    }

    struct Readiness: ResponseEncodable {
        let status: String
        let database: String
        let migrations: String
    }

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in Health(status: "ok") }
        router.get("/readyz") { _, context in
            try await self.readiness(logger: context.logger)
        }
    }

    func readiness(logger: Logger) async throws -> EditedResponse<Readiness> {
        let reachable = await database.isReachable(timeout: .seconds(2))
        var current = false
        if reachable {
            let runner = MigrationRunner(client: database.client, logger: logger)
            current = (try? await runner.isCurrent(migrations)) ?? false
        }
        let ready = reachable && current
        if !ready { logger.warning("not ready", metadata: ["database": "\(reachable)", "migrations": "\(current)"]) }
        return EditedResponse(
            status: ready ? .ok : .serviceUnavailable,
            response: Readiness(
                status: ready ? "ready" : "not ready",
                database: reachable ? "reachable" : "unreachable",
                migrations: reachable ? (current ? "current" : "pending") : "unknown"))
    }
}
