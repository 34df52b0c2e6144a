import AreoArchive
import AreoProducts
import Logging
import ServiceLifecycle

/// Notices catalogue changes made by any process (`areo geometry load`, an API load …) at once,
/// through PostgreSQL `LISTEN areo_catalog`, so recently used products are regenerated right
/// after a load even when no request comes; when the listening connection is lost it polls
/// every `interval` until it can listen again. Flushes the cache index at shutdown.
public struct CatalogueWatcher: Service {
    let delivery: ProductDelivery
    let logger: Logger
    let interval: Duration

    public init(delivery: ProductDelivery, logger: Logger, interval: Duration = .seconds(2)) {
        (self.delivery, self.logger, self.interval) = (delivery, logger, interval)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            let catalog = ObservationCatalog(database: delivery.database, logger: logger)
            while !Task.isCancelled {
                // A poll covers whatever was loaded while nobody listened.
                do {
                    try await delivery.regenerateIfChanged()
                } catch {
                    logger.warning("catalogue check failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await catalog.watch { [delivery, logger] _ in
                        do { try await delivery.regenerateIfChanged() } catch {
                            logger.warning("regeneration after a load failed", metadata: ["error": "\(error)"])
                        }
                    }
                } catch {
                    if !Task.isCancelled { logger.notice("not listening for catalogue changes; polling", metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(for: interval)
            }
        }
        delivery.cache.flush()
    }
}
