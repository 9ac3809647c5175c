import Foundation
import Hummingbird
import NIOCore
import ParleyCore
import ParleyStore

/// Uploading files to send, and reading files: by agents through the API (their session or
/// token), by anyone holding a signed link until it expires (widget visitors, providers).
struct AttachmentsController {
    let services: Services

    struct Detail: Encodable, Sendable {
        let attachment: Attachment
        let signedUrl: String?
        let expiresAt: Date?
    }

    func register(_ api: APIRoutes) {
        api.authenticated(.post, "/api/v1/attachments", RouteDoc(
            summary: "Upload a file to send: the body is the file, Content-Type its declared type (checked against the bytes), ?fileName= its name. Send it with attachmentIds.",
            tag: "messages", bodyMediaType: "application/octet-stream", response: "Attachment", status: 201,
            query: [QueryParameter("fileName", Schema.string, "the file's name")], errors: [413, 422, 503]), handler: upload)
        api.authenticated(.get, "/api/v1/attachments/{id}", RouteDoc(
            summary: "An attachment, with a signed link valid for an hour", tag: "messages", response: "AttachmentDetail", errors: [404]), handler: detail)
        api.authenticated(.get, "/api/v1/attachments/{id}/content", RouteDoc(
            summary: "An attachment's bytes (images, audio and video inline, everything else as a download)", tag: "messages",
            // The type is the one sniffed from the file's bytes, so any media type may come back.
            response: "file", responseMediaType: "*/*", errors: [404]), handler: content)
        api.add(.get, "/files/{id}", RouteDoc(
            summary: "An attachment's bytes through a signed, expiring link", tag: "messages", authenticated: false, response: "file",
            responseMediaType: "*/*",
            query: [QueryParameter("expires", Schema.integer, "expiry, seconds since 1970"), QueryParameter("signature", Schema.string, "the link's signature")],
            errors: [403, 404]), handler: signed)
    }

    @Sendable func upload(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Attachment> {
        let identity = context.identity
        let accepted = try await Self.acceptUpload(request, limit: AttachmentLimits.serverMaximum, workspaceId: identity.user.workspaceId,
                                                   services: services)
        let stored = try await services.attachments.insertUpload(
            workspaceId: identity.user.workspaceId, channelId: nil, userId: identity.user.id, visitor: nil, kind: accepted.kind,
            blobKey: accepted.blobKey, size: accepted.size, contentType: accepted.contentType, fileName: accepted.fileName, at: services.clock.now())
        return JSONResponse(stored.attachment, status: .created)
    }

    /// An uploaded file (the request's body, its Content-Type and `?fileName=`) through the intake,
    /// or the API's error: for agents and website visitors alike.
    static func acceptUpload(_ request: Request, limit: Int64, workspaceId: Int64, services: Services) async throws -> AttachmentIntake.Accepted {
        let bytes: [UInt8]
        do {
            bytes = Array(buffer: try await request.body.collect(upTo: Int(limit)))
        } catch {
            throw APIError(.contentTooLarge, code: "file_too_large", message: "files are limited to \(limit >> 20) MB")
        }
        let fileName = request.uri.queryParameters.get("fileName")
        if let fileName, fileName.count > 255 { throw APIError.badRequest("query parameter 'fileName' must be at most 255 characters", field: "fileName") }
        return try await intake(services: services) {
            try await AttachmentIntake(services: services).accept(bytes, declaredType: request.headers[.contentType], fileName: fileName,
                                                                  limit: limit, workspaceId: workspaceId)
        }
    }

    /// Runs an intake, turning a refusal into the API's error.
    private static func intake<T>(services: Services, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let refusal as AttachmentIntake.Refusal {
            switch refusal {
            case .tooLarge: throw APIError(.contentTooLarge, code: "file_too_large", message: refusal.description)
            case .quota: throw APIError(.contentTooLarge, code: "storage_full", message: refusal.description)
            case .contentType: throw APIError.unprocessable("content_type_mismatch", refusal.description, field: "Content-Type")
            case .empty: throw APIError.badRequest(refusal.description)
            }
        } catch let failure as BlobStoreError {
            // The store's own answer stays in the log; the caller learns only that it failed.
            services.logger.error("the file store refused a file", metadata: ["error": "\(failure)"])
            throw APIError(.serviceUnavailable, code: "storage_unavailable", message: "the file store could not keep the file; try again later")
        }
    }

    @Sendable func detail(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Detail> {
        let identity = context.identity
        let id = try context.id("id", what: "attachment")
        guard let stored = try await services.attachments.find(id: id, workspaceId: identity.user.workspaceId) else { throw APIError.notFound("attachment") }
        guard stored.attachment.status == .stored else { return JSONResponse(Detail(attachment: stored.attachment, signedUrl: nil, expiresAt: nil)) }
        let expires = Date(timeIntervalSince1970: (services.clock.now().timeIntervalSince1970 + AttachmentLinks.readerLifetime).rounded(.down))
        return JSONResponse(Detail(attachment: stored.attachment, signedUrl: AttachmentLinks.path(stored, expires: expires), expiresAt: expires))
    }

    @Sendable func content(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = context.identity
        let id = try context.id("id", what: "attachment")
        guard let stored = try await services.attachments.find(id: id, workspaceId: identity.user.workspaceId) else { throw APIError.notFound("attachment") }
        return try await file(stored)
    }

    @Sendable func signed(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.id("id", what: "attachment")
        guard let stored = try await services.attachments.find(id: id) else { throw APIError.notFound("attachment") }
        let query = request.uri.queryParameters
        switch AttachmentLinks.check(stored, expires: query.get("expires"), signature: query.get("signature"), now: services.clock.now()) {
        case .valid: return try await file(stored)
        case .expired: throw APIError(.forbidden, code: "link_expired", message: "this link has expired")
        case .forged: throw APIError(.forbidden, code: "invalid_signature", message: "this link's signature does not verify")
        }
    }

    /// The bytes, served so that a browser never runs them: the sniffed type, `nosniff`, a
    /// sandboxing CSP, and everything but images, audio and video as a download.
    func file(_ stored: StoredAttachment) async throws -> Response {
        guard stored.attachment.status == .stored, let key = stored.blobKey, let bytes = try await services.blobs.get(key) else {
            throw APIError.notFound("attachment")
        }
        let type = stored.attachment.contentType ?? "application/octet-stream"
        let disposition = stored.attachment.kind.rendersInline && !type.hasPrefix("text/") ? "inline" : "attachment"
        var headers: HTTPFields = [.contentType: type, .contentLength: String(bytes.count)]
        headers[.contentDisposition] = "\(disposition); filename=\"\(Self.asciiName(stored.attachment.fileName))\"; filename*=UTF-8''\(Self.encoded(stored.attachment.fileName))"
        headers[SecurityHeadersMiddleware<AppRequestContext>.contentTypeOptions] = "nosniff"
        headers[SecurityHeadersMiddleware<AppRequestContext>.csp] = "default-src 'none'; media-src 'self'; img-src 'self'; sandbox"
        headers[.cacheControl] = "private, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func asciiName(_ name: String) -> String {
        String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
    }

    static func encoded(_ name: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "attachment"
    }
}
