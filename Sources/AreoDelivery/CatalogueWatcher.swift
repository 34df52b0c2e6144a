import Logging
import ServiceLifecycle

/// Notices catalogue changes made by other processes (`areo geometry load` …) even when no
/// request comes, so recently used products are regenerated soon after a load; flushes the
/// cache index at shutdown.
public struct CatalogueWatcher: Service {
    let delivery: ProductDelivery
    let logger: Logger
    let interval: Duration

    public init(delivery: ProductDelivery, logger: Logger, interval: Duration = .seconds(2)) {
        (self.delivery, self.logger, self.interval) = (delivery, logger, interval)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { break }
                do {
                    try await delivery.regenerateIfChanged()
                } catch {
                    logger.warning("catalogue check failed", metadata: ["error": "\(error)"])
                }
            }
        }
        await delivery.cache.flush()
    }
}
