import HTTPTypes
import Hummingbird
import Foundation
import Logging
import Synchronization

/// Per-client abuse limits: a request rate (token bucket) and a number of cold renders in
/// flight. A client is its token, or its address for the public. Over a limit the server
/// answers 429 with `Retry-After`; nothing else is refused.
final class ClientLimits: Sendable {
    /// The limits; zero turns one off.
    struct Configuration: Sendable {
        /// Sustained requests per second per client.
        var requestsPerSecond: Double = 200
        /// Requests a client may send at once above the sustained rate.
        var burst: Double = 400
        /// Distinct renders a client may wait for at once (cache misses of products and
        /// mosaics; many requests for one product count once, as they share its render).
        var coldRendersPerClient = 4
    }

    private struct Bucket {
        var tokens: Double
        var at: TimeInterval
        /// The products being rendered for the client, with how many of its requests wait for each.
        var rendering: [String: Int] = [:]
    }
    let configuration: Configuration
    private let clients = Mutex([String: Bucket]())

    init(_ configuration: Configuration) { self.configuration = configuration }

    /// Takes one request from `client`'s bucket: nil when admitted, else the seconds to wait.
    func admit(_ client: String, now: TimeInterval = ProcessInfo.processInfo.systemUptime) -> Int? {
        let rate = configuration.requestsPerSecond, burst = max(1, configuration.burst)
        guard rate > 0 else { return nil }
        return clients.withLock { clients in
            if clients.count > 100_000 { clients.removeAll(keepingCapacity: true) }  // bounded memory under a flood of addresses
            var bucket = clients[client] ?? Bucket(tokens: burst, at: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            defer { clients[client] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// Starts waiting for the render of `product` for `client`; false when it already waits
    /// for as many other products as allowed.
    func beginRender(_ client: String, product: String) -> Bool {
        let limit = configuration.coldRendersPerClient
        guard limit > 0 else { return true }
        return clients.withLock { clients in
            var bucket = clients[client] ?? Bucket(tokens: max(1, configuration.burst), at: ProcessInfo.processInfo.systemUptime)
            guard bucket.rendering[product] != nil || bucket.rendering.count < limit else { return false }
            bucket.rendering[product, default: 0] += 1
            clients[client] = bucket
            return true
        }
    }

    /// Ends a wait begun with ``beginRender(_:product:)``.
    func endRender(_ client: String, product: String) {
        guard configuration.coldRendersPerClient > 0 else { return }
        clients.withLock { clients in
            guard var bucket = clients[client], let waiting = bucket.rendering[product] else { return }
            bucket.rendering[product] = waiting > 1 ? waiting - 1 : nil
            clients[client] = bucket
        }
    }

    /// Runs a cold render of `product` for `client` within its limit, or throws 429.
    func withRenderSlot<T: Sendable>(_ client: String, product: String, _ body: () async throws -> T) async throws -> T {
        guard beginRender(client, product: product) else {
            throw ProblemDocument(.tooManyRequests, "at most \(configuration.coldRendersPerClient) products may be rendering for one client at once; retry when one is done",
                                  headers: [.retryAfter: "2"])
        }
        defer { endRender(client, product: product) }
        return try await body()
    }
}

/// Counts every request against its client's rate (after authentication, so a token is its own client).
struct RateLimitMiddleware: RouterMiddleware {
    let limits: ClientLimits

    func handle(_ request: Request, context: AreoRequestContext, next: (Request, AreoRequestContext) async throws -> Response) async throws -> Response {
        if let wait = limits.admit(context.clientKey) {
            context.logger.notice("rate limited", metadata: ["client": "\(context.clientKey)"])
            throw ProblemDocument(.tooManyRequests, "too many requests from this client; retry after \(wait) s", headers: [.retryAfter: String(wait)])
        }
        return try await next(request, context)
    }
}
