import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Files from website visitors: uploaded first (`POST /widget/v1/attachments`), then sent with
/// a message by id. A visitor can send only their own unsent uploads.
extension WidgetController {
    func registerAttachments(_ api: APIRoutes, visitorAuth: String) {
        api.add(.post, "/widget/v1/attachments", RouteDoc(
            summary: "A visitor uploads a file to send: the body is the file, Content-Type its declared type (checked against the bytes), "
                + "?fileName= its name; then POST /widget/v1/messages with attachmentIds. " + visitorAuth,
            tag: "widget", authenticated: false, bodyMediaType: "application/octet-stream", response: "WidgetAttachment", status: 201,
            query: [QueryParameter("fileName", Schema.string, "the file's name")], errors: [401, 403, 413, 422, 429, 503]), handler: upload)
    }

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VisitorAttachment> {
        try limit(WidgetRateLimiter.address, key: "ip|\(context.clientAddress)")
        let (channel, token) = try await authenticate(request)
        try limit(WidgetRateLimiter.visitorMessages, key: "visitor|\(channel.channelId)|\(token.externalId)")
        let accepted = try await AttachmentsController.acceptUpload(request, limit: AttachmentLimits.inboundMaximum(.webchat),
                                                                    workspaceId: channel.workspaceId, services: services)
        let stored = try await services.attachments.insertUpload(
            workspaceId: channel.workspaceId, channelId: channel.channelId, userId: nil, visitor: token.externalId, kind: accepted.kind,
            blobKey: accepted.blobKey, size: accepted.size, contentType: accepted.contentType, fileName: accepted.fileName, at: services.clock.now())
        var file = stored.attachment
        file.signingKey = stored.accessKey
        return JSONResponse(VisitorAttachment(file, expires: services.clock.now().addingTimeInterval(AttachmentLinks.readerLifetime)), status: .created)
    }

    /// The visitor's own unsent uploads on this channel, or a 422 naming the one that is not.
    func checkedUploads(_ ids: [Int64], channel: WebchatChannel, token: VisitorToken) async throws -> [StoredAttachment] {
        guard ids.count <= 1 else { throw APIError.badRequest("send one file per message", field: "attachmentIds") }
        return try await ids.asyncMapAll { id in
            guard let stored = try await services.attachments.find(id: id, workspaceId: channel.workspaceId),
                  stored.channelId == channel.channelId, stored.uploadedByVisitor == token.externalId, stored.attachment.messageId == nil else {
                throw APIError.unprocessable("attachment_refused", "attachment \(id) is not an unsent upload of yours", field: "attachmentIds")
            }
            return stored
        }
    }
}

extension Array {
    func asyncMapAll<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
