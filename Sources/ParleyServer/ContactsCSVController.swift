import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// CSV import and export of contacts, both streamed.
struct ContactsCSVController {
    let services: Services

    func register(_ api: APIRoutes) {
        api.authenticated(.post, "/api/v1/contacts/import", RouteDoc(
            summary: "Import contacts from CSV (text/csv body, header row; matches existing contacts by email, then phone). Owners and managers.",
            tag: "contacts", bodyMediaType: "text/csv", response: "ImportReport", errors: [403]), handler: importCSV)
        api.authenticated(.get, "/api/v1/contacts/export", RouteDoc(
            summary: "Export every contact as CSV (owners and managers)", tag: "contacts", response: "csv", responseMediaType: "text/csv",
            errors: [403]), handler: exportCSV)
    }

    @Sendable func importCSV(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ImportReport> {
        let identity = try context.requireAdministrator()
        // A declared length over the limit is refused before anything is read or written.
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxImportBytes {
            throw Self.tooLarge
        }
        let chunks = request.body.map { $0.readableBytesView }
        do {
            let report = try await ContactImporter(database: services.database).run(
                chunks, workspaceId: identity.user.workspaceId, actorUserId: identity.user.id, at: services.clock.now(),
                maxBytes: Self.maxImportBytes
            )
            return JSONResponse(report)
        } catch ImportError.tooLarge {
            throw Self.tooLarge
        } catch ImportError.badHeader(let message) {
            throw APIError(.badRequest, code: "invalid_csv", message: message)
        } catch ImportError.empty {
            throw APIError(.badRequest, code: "invalid_csv", message: "the file is empty: a header row is required")
        }
    }

    /// The largest CSV body an import reads (about 100,000 contacts with a few custom fields).
    static let maxImportBytes = 32 << 20
    static let tooLarge = APIError(.contentTooLarge, code: "too_large", message: "the CSV body is larger than \(maxImportBytes >> 20) MB; split the file")

    @Sendable func exportCSV(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = try context.requireAdministrator()
        let workspaceId = identity.user.workspaceId
        let exporter = ContactExporter(database: services.database)
        let body = ResponseBody { writer in
            try await exporter.export(workspaceId: workspaceId) { text in try await writer.write(ByteBuffer(string: text)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"contacts.csv\"",
        ], body: body)
    }
}
