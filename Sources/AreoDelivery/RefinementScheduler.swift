import AreoArchive
import AreoProducts
import Foundation
import Logging
import ServiceLifecycle

/// Refines geometry automatically, at low priority (ICD §12): whenever the catalogue generation
/// changes — an observation became complete, a kernel or a reference map arrived — it refines
/// the observations touched since its previous pass that
/// ``GeometryRefinementRepository/candidates(touchedSince:after:limit:)`` finds, one at a time on
/// the compute threads at background priority, so renders for users go first. Starting up, it
/// resumes from the last automatic refinement (everything, in a new archive).
public struct RefinementScheduler: Service {
    let service: GeometryRefinementService
    let database: Database
    let logger: Logger
    let interval: Duration

    public init(service: GeometryRefinementService, database: Database, logger: Logger, interval: Duration = .seconds(2)) {
        (self.service, self.database, self.logger, self.interval) = (service, database, logger, interval)
    }

    /// How far before a pass's start the next one looks (longer than a load's write transaction).
    static let commitMargin: TimeInterval = 120

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            let catalog = ObservationCatalog(database: database, logger: logger)
            let refinements = GeometryRefinementRepository(database: database, logger: logger)
            var seen: Int64? = nil
            var since: Date? = nil
            while !Task.isCancelled {
                do {
                    let generation = try await catalog.generation()
                    if generation != seen {
                        let clock = try await refinements.clock()
                        let from = since ?? clock.lastAutomatic?.addingTimeInterval(-Self.commitMargin) ?? .distantPast
                        let done = try await Task(priority: .background) { try await service.refineCandidates(touchedSince: from) }.value
                        // The next pass looks at what changes from shortly before this one's start on:
                        // a row's `changed_at` (a map's `loaded_at`) is its transaction's start, which
                        // may precede this pass while committing after it.
                        (seen, since) = (generation, clock.now.addingTimeInterval(-Self.commitMargin))
                        if done > 0 { logger.info("automatic refinements", metadata: ["observations": "\(done)"]) }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if !Task.isCancelled { logger.warning("automatic refinement pass failed", metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
