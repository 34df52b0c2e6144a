import AreoTelemetry
import AreoGeometry
import HTTPTypes
import Hummingbird
import Logging

/// Echoes the request id Hummingbird puts in every request's logger metadata as the
/// `X-Request-Id` response header, so a client can quote it and operators can find the log lines.
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = context.id
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = id
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[.requestID] = id
            return response
        }
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    public static let requestID = Self("X-Request-Id")!
}
