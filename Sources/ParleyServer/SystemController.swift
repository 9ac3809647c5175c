import Foundation
import Hummingbird
import ParleyStore

/// Health, metrics and the API description.
struct SystemController {
    let services: Services

    struct Health: Encodable, Sendable {
        let status: String
        let database: String
    }

    func register(_ api: APIRoutes) {
        api.add(.get, "/healthz", RouteDoc(summary: "Liveness and database reachability", tag: "system", authenticated: false,
                                           response: "Health", errors: [503]), handler: health)
        api.add(.get, "/readyz", RouteDoc(summary: "Readiness: the database is reachable and its migrations are this version's",
                                          tag: "system", authenticated: false, response: "Readiness", errors: [503]), handler: ready)
        api.add(.get, "/metrics", RouteDoc(summary: "Prometheus metrics", tag: "system", authenticated: false,
                                           response: "metrics", responseMediaType: "text/plain"), handler: metrics)
    }

    /// Registered last, so that the document describes every route, itself included.
    func registerOpenAPI(_ api: APIRoutes, version: String) {
        var routes = api.documented
        let doc = RouteDoc(summary: "This API description (OpenAPI 3.1)", tag: "system", authenticated: false, response: "OpenAPIDocument")
        routes.append((.get, "/openapi.json", doc))
        let body = (try? JSONEncoder.api.encode(OpenAPIDocument.build(routes: routes, version: version))) ?? Data("{}".utf8)
        let bytes = ByteBuffer(bytes: body)
        api.add(.get, "/openapi.json", doc) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: bytes))
        }
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Health> {
        do {
            try await services.database.read { db in try await db.raw("SELECT 1 AS ok").run() }
            return JSONResponse(Health(status: "ok", database: "ok"))
        } catch {
            context.logger.error("health check failed", metadata: ["error": "\(loggableDescription(of: error))"])
            return JSONResponse(Health(status: "unavailable", database: "unreachable"), status: .serviceUnavailable)
        }
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OperationsMetrics(services: services).refresh(logger: context.logger)
        var buffer: [UInt8] = []
        services.metrics.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
