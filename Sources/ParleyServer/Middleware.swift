import Foundation
import Hummingbird
import Logging
import ParleyChannels
import ParleyCore
import ParleyStore
import Prometheus

/// Resolves `Authorization: Bearer …` to an ``Identity``. Routes decide whether they need one.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: TokenRepository
    let clock: any ParleyClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let now = clock.now()
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.unauthorized }
            guard let found = try await tokens.authenticate(token: String(parts[1]), at: now) else {
                throw APIError.unauthorized
            }
            context.identity = Identity(user: found.user, token: found.token)
        } else if !request.uri.path.hasPrefix("/widget"),
                  // The widget's routes serve visitors; an agent's cookie in the same browser means nothing there.
                  let cookie = request.cookies[SessionCookie.name]?.value, !cookie.isEmpty,
                  let found = try await tokens.authenticate(token: cookie, at: now) {
            // A stale cookie is simply no session: the sign-in page must still load.
            if SessionCookie.needsCSRF(request.method) {
                let sent = request.headers[SessionCookie.csrfHeader] ?? ""
                guard constantTimeEquals(sent, SessionCookie.csrfToken(for: cookie)) else {
                    throw APIError(.forbidden, code: "csrf_failed", message: "this request needs the X-CSRF-Token header of the signed-in session")
                }
            }
            context.identity = Identity(user: found.user, token: found.token, viaCookie: true, cookieToken: cookie)
        }
        if let identity = context.identity {
            context.logger[metadataKey: "user"] = "\(identity.user.id)"
            try await tokens.touch(tokenId: identity.token.id, lastUsedAt: identity.token.lastUsedAt, at: now)
        }
        return try await next(request, context)
    }
}

/// Logs one line per request (method, path without query, status, duration — never headers or
/// bodies, which carry secrets) and counts requests for `/metrics`. Errors that are not
/// ``APIError``s become a JSON 500 whose details stay in the log.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let requests: PrometheusCollectorRegistry
    let durations: DurationHistogram

    init(registry: PrometheusCollectorRegistry) {
        self.requests = registry
        self.durations = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "parley", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                                             helpText: "Time to answer an HTTP request"),
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2)]
        )
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: HTTPResponse.Status
        let response: Response
        do {
            response = try await next(request, context)
            status = response.status
        } catch let error as APIError {
            record(request, context: context, status: error.status, start: start)
            throw error
        } catch let error as any HTTPResponseError {
            // The router's own errors (no such route, method not allowed) get the API's JSON shape too.
            record(request, context: context, status: error.status, start: start)
            let code = error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            throw APIError(error.status, code: code, message: error.status == .notFound ? "no route for \(request.method.rawValue) \(request.uri.path)" : error.status.reasonPhrase)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(loggableDescription(of: error))"])
            record(request, context: context, status: .internalServerError, start: start)
            throw APIError(.internalServerError, code: "internal_error", message: "the server could not complete the request")
        }
        record(request, context: context, status: status, start: start)
        return response
    }

    private func record(_ request: Request, context: Context, status: HTTPResponse.Status, start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        durations.recordNanoseconds(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        let route = context.endpointPath ?? "unmatched"
        requests.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "parley", subsystem: "http", metricName: "requests", unitName: "total",
                                             helpText: "HTTP requests answered"),
            labels: [("method", request.method.rawValue), ("route", route), ("status", String(status.code))]
        ).increment()
        let level: Logger.Level = status.code >= 500 ? .error : .info
        context.logger.log(level: level, "request", metadata: [
            "method": "\(request.method.rawValue)",
            "path": "\(request.uri.path)",
            "status": "\(status.code)",
            "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
    }
}
