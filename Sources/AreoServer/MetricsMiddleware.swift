import AreoTelemetry
import AreoGeometry
import AreoDelivery
import Hummingbird
import Logging

/// Counts requests and times them by route (`areo_http_requests_total`,
/// `areo_http_request_duration_seconds`).
struct MetricsMiddleware: RouterMiddleware {
    let metrics: DeliveryMetrics

    func handle(_ request: Request, context: AreoRequestContext, next: (Request, AreoRequestContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code, duration: .now - start)
            return response
        } catch let error as any HTTPResponseError {
            metrics.request(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: error.status.code, duration: .now - start)
            throw error
        }
    }
}
