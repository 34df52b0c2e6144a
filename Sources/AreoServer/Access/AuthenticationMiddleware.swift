import AreoArchive
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Reads `Authorization: Bearer TOKEN` and sets the request's role. No header: public. An
/// unknown, revoked or expired token: 401 (a client that sent a token expects it to count). Token
/// lookups are remembered for a few seconds so cache hits do not wait for the database.
///
/// Without the header, a browser's sign-in cookie (``SignInSessions``) stands for its token; an
/// unknown or expired session is simply public (the page then offers to sign in again).
struct AuthenticationMiddleware: RouterMiddleware {
    let tokens: AccessTokens
    let sessions: SignInSessions
    let remembered = TokenMemory()
    static let memory: TimeInterval = 5

    func handle(_ request: Request, context: AreoRequestContext, next: (Request, AreoRequestContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            guard let id = SignInSessions.sessionID(inCookieHeader: request.headers[.cookie]), let token = sessions.token(session: id),
                  let holder = try await holder(of: token) else { return try await next(request, context) }
            var context = context
            context.role = holder.role
            context.tokenID = holder.id
            return try await next(request, context)
        }
        guard header.lowercased().hasPrefix("bearer "), header.count < 512 else {
            throw ProblemDocument(.unauthorized, "Authorization must be 'Bearer TOKEN'")
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let holder = try await holder(of: token) else {
            context.logger.warning("unknown, revoked or expired token")
            throw ProblemDocument(.unauthorized, "the bearer token is unknown, revoked or expired")
        }
        var context = context
        context.role = holder.role
        context.tokenID = holder.id
        return try await next(request, context)
    }

    /// Who holds `token` (remembered for a few seconds), nil when nobody valid does.
    func holder(of token: String) async throws -> AccessTokens.Holder? {
        let now = Date()
        var holder: AccessTokens.Holder?
        if let known = remembered.state.withLock({ $0[token] }), now.timeIntervalSince(known.at) < Self.memory {
            holder = known.holder
        } else {
            holder = try await tokens.holder(of: token)
            remembered.state.withLock {
                if $0.count > 10_000 { $0 = [:] }
                $0[token] = (holder, now)
            }
        }
        return holder
    }
}

/// Token lookups of the last few seconds.
final class TokenMemory: Sendable {
    let state = Mutex([String: (holder: AccessTokens.Holder?, at: Date)]())
}
