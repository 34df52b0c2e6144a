import AreoGeometry
import AreoDelivery
import AreoExport
import AreoArchive
import AreoProcessing
import AreoQuery
import AreoTelemetry
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// An RFC 9457 problem document: every error the API returns is one of these, as JSON.
struct ProblemDocument: HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let title: String
    let detail: String
    /// The machine-readable kind of problem (the domain error's code), when there is one.
    var code: String?
    /// Extra response headers (`Retry-After` on 429).
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ detail: String, title: String? = nil, code: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.title = title ?? status.reasonPhrase
        self.code = code
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ProblemBody(type: "about:blank", title: title, status: status.code, detail: detail, instance: request.uri.path, code: code)
        let data = try JSONEncoder().encode(body)
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(
            status: status, headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct ProblemBody: Encodable {
    let type: String
    let title: String
    let status: Int
    let detail: String
    let instance: String
    /// An extension member (RFC 9457 §3.2): the domain error's code.
    let code: String?
}

/// Maps every error to a problem document at the HTTP boundary. Domain errors keep their
/// message (they name the rule and the place); anything else becomes a 500 with no internals,
/// its detail logged under the request id.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ProblemDocument {
            throw error
        } catch let error as ParameterError {
            context.logger.notice("refused parameter", metadata: ["parameter": "\(error.parameter)", "rule": "\(error.rule)"])
            throw ProblemDocument(.badRequest, error.description, title: "Invalid parameter", code: "invalid_parameter")
        } catch let error as NIOTooManyBytesError {
            throw ProblemDocument(.contentTooLarge, "the request body is larger than this route accepts (\(error.maxBytes.map { "\($0) bytes" } ?? "its limit"))")
        } catch let error as HTTPError {
            throw ProblemDocument(error.status, error.body ?? error.status.reasonPhrase)
        } catch let error as TelemetryError {
            context.logger.warning("rejected input", metadata: ["error": "\(error)"])
            throw ProblemDocument(.unprocessableContent, error.description, title: "Input does not conform to the ICD", code: "icd_violation")
        } catch let error as IngestError {
            context.logger.warning("rejected request", metadata: ["error": "\(error)", "code": "\(error.code.rawValue)"])
            switch error.code {
            case .invalidArgument, .unreadable: throw ProblemDocument(.badRequest, error.description, code: error.code.rawValue)
            case .notRecorded, .inconsistent:
                throw ProblemDocument(.internalServerError, "the input could not be recorded; quote request id \(context.id) to the operators", code: error.code.rawValue)
            }
        } catch let error as ShapeModelError {
            context.logger.warning("rejected shape model", metadata: ["error": "\(error)"])
            throw ProblemDocument(.unprocessableContent, error.description, title: "Input does not conform to the ICD", code: "icd_violation")
        } catch let error as ReferenceMapError {
            context.logger.warning("rejected reference map", metadata: ["error": "\(error)"])
            throw ProblemDocument(.unprocessableContent, error.description, title: "Input does not conform to the ICD", code: "icd_violation")
        } catch let error as InputConflict {
            context.logger.warning("input conflicts with the archive", metadata: ["error": "\(error)"])
            throw ProblemDocument(.conflict, error.description, title: "Another input holds this id", code: "input_conflict")
        } catch let error as ClockService.NoClockCorrelation {
            throw ProblemDocument(.conflict, error.description, code: "no_clock_correlation")
        } catch let error as DeliveryError {
            switch error {
            case .notFound(let message): throw ProblemDocument(.notFound, message, code: error.code)
            case .unavailable(let message): throw ProblemDocument(.conflict, message, title: "Not yet processable", code: error.code)
            case .tooLarge(let message): throw ProblemDocument(.unprocessableContent, message, title: "Too large", code: error.code)
            }
        } catch let error as ProcessingError {
            context.logger.warning("processing refused", metadata: ["error": "\(error)", "code": "\(error.code.rawValue)"])
            throw Self.problem(error)
        } catch let error as ExportError {
            throw ProblemDocument(.unprocessableContent, error.description, title: "Not exported", code: "not_exported")
        } catch is CancellationError {
            throw ProblemDocument(.serviceUnavailable, "the request was cancelled")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            throw ProblemDocument(.internalServerError, "the request could not be completed; quote request id \(context.id) to the operators")
        }
    }

    /// The one mapping of processing refusals to HTTP.
    static func problem(_ error: ProcessingError) -> ProblemDocument {
        let code = error.code.rawValue
        switch error.code {
        case .invalidRequest: return ProblemDocument(.badRequest, error.description, title: "Invalid product request", code: code)
        case .notInArchive: return ProblemDocument(.notFound, error.description, code: code)
        case .noKernel, .noCalibration, .noInstrument, .noCompleteFragment:
            return ProblemDocument(.conflict, error.description, title: "Not yet processable", code: code)
        case .inputReplaced:
            return ProblemDocument(.serviceUnavailable, error.description, title: "Input replaced; ask again", code: code, headers: [.retryAfter: "1"])
        case .noUsableData, .geometryMissesMars, .tooLarge, .fragmentUnreadable:
            return ProblemDocument(.unprocessableContent, error.description, title: "Cannot be processed", code: code)
        }
    }
}
