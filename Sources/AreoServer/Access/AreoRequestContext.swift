import AreoArchive
import Hummingbird
import Logging
import NIOCore

/// Every request's context: Hummingbird's core, the connection (to notice a client that has
/// gone) and the caller's role once ``AuthenticationMiddleware`` has read its token.
public struct AreoRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection.
    public let channel: any Channel
    /// What the caller may see and do.
    public var role: Role = .public
    /// The caller's token (its id), nil for the public.
    public var tokenID: Int?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Throws 401 (no token) or 403 (a token of too low a role) unless the caller is `role` or above.
    public func require(_ needed: Role) throws {
        guard role >= needed else {
            throw role == .public
                ? ProblemDocument(.unauthorized, "this needs a bearer token of role \(needed.rawValue) (Authorization: Bearer …)")
                : ProblemDocument(.forbidden, "this needs role \(needed.rawValue); the token given is \(role.rawValue)")
        }
    }

    /// Who counts against the abuse limits: the token, or the address of a public caller.
    public var clientKey: String {
        if let tokenID { return "token:\(tokenID)" }
        return "address:" + (channel.remoteAddress?.ipAddress ?? "unknown")
    }

    /// Whether only non-embargoed observations may be shown.
    public var publicOnly: Bool { role < .team }
}
