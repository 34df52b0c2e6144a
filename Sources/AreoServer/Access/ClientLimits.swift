import Hummingbird
import Foundation
import HTTPTypes
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
        /// Renders a client may wait for at once (cache misses of products and mosaics).
        var coldRendersPerClient = 4
    }

    private struct Bucket { var tokens: Double; var at: TimeInterval; var rendering = 0 }
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

    /// Starts a cold render for `client`; false when it has as many in flight as allowed.
    func beginRender(_ client: String) -> Bool {
        let limit = configuration.coldRendersPerClient
        guard limit > 0 else { return true }
        return clients.withLock { clients in
            var bucket = clients[client] ?? Bucket(tokens: max(1, configuration.burst), at: ProcessInfo.processInfo.systemUptime)
            guard bucket.rendering < limit else { return false }
            bucket.rendering += 1
            clients[client] = bucket
            return true
        }
    }

    /// Ends a cold render begun with ``beginRender(_:)``.
    func endRender(_ client: String) {
        guard configuration.coldRendersPerClient > 0 else { return }
        clients.withLock { clients in
            if var bucket = clients[client] { bucket.rendering = max(0, bucket.rendering - 1); clients[client] = bucket }
        }
    }

    /// Runs a cold render for `client` within its limit, or throws 429.
    func withRenderSlot<T: Sendable>(_ client: String, _ body: () async throws -> T) async throws -> T {
        guard beginRender(client) else {
            throw ProblemDocument(.tooManyRequests, "at most \(configuration.coldRendersPerClient) products may be rendering for one client at once; retry when one is done",
                                  headers: [.retryAfter: "2"])
        }
        defer { endRender(client) }
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
