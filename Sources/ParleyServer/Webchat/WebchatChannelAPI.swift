import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// A website chat channel's settings in the channels API: given on create, patched field by
/// field on update, shown with the snippet to paste.
struct WebchatSettingsInput: Decodable, Sendable {
    let allowedOrigins: [String]?
    let color: String?
    let greeting: String?
    let prechatForm: Bool?
    let offlineText: String?
    /// Distinguishes `"officeHours": null` (always open) from leaving it out.
    let officeHours: WebchatSettings.OfficeHours??

    enum CodingKeys: String, CodingKey {
        case allowedOrigins, color, greeting, prechatForm, offlineText, officeHours
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        allowedOrigins = try container.decodeUnlessNull([String].self, forKey: .allowedOrigins)
        color = try container.decodeUnlessNull(String.self, forKey: .color)
        greeting = try container.decodeUnlessNull(String.self, forKey: .greeting)
        prechatForm = try container.decodeUnlessNull(Bool.self, forKey: .prechatForm)
        offlineText = try container.decodeUnlessNull(String.self, forKey: .offlineText)
        officeHours = container.contains(.officeHours) ? .some(try container.decodeIfPresent(WebchatSettings.OfficeHours.self, forKey: .officeHours)) : nil
    }

    /// `base` with the fields present replaced, checked; a 400 naming the field otherwise.
    func applied(to base: WebchatSettings) throws -> WebchatSettings {
        var settings = base
        if let allowedOrigins { settings.allowedOrigins = allowedOrigins }
        if let color { settings.color = color }
        if let greeting { settings.greeting = greeting }
        if let prechatForm { settings.prechatForm = prechatForm }
        if let offlineText { settings.offlineText = offlineText }
        if let officeHours { settings.officeHours = officeHours }
        switch settings.validated() {
        case .success(let valid): return valid
        case .failure(let problem): throw APIError.badRequest(problem.message, field: "webchat.\(problem.field)")
        }
    }
}

/// What the channels API shows of a website chat channel.
struct WebchatView: Encodable, Sendable {
    /// The `data-channel` of the snippet.
    let key: String
    let allowedOrigins: [String]
    let color: String
    let greeting: String
    let prechatForm: Bool
    let offlineText: String
    let officeHours: WebchatSettings.OfficeHours?
    /// The one tag a site pastes.
    let snippet: String
    /// Only in the answer that created the channel or rotated the secret.
    let identitySecret: String?

    init(_ channel: WebchatChannel, publicURL: String, revealSecret: String? = nil) {
        key = channel.publicKey
        allowedOrigins = channel.settings.allowedOrigins
        color = channel.settings.color
        greeting = channel.settings.greeting
        prechatForm = channel.settings.prechatForm
        offlineText = channel.settings.offlineText
        officeHours = channel.settings.officeHours
        snippet = #"<script src="\#(publicURL)/widget.js" data-channel="\#(channel.publicKey)" async></script>"#
        identitySecret = revealSecret
    }
}

/// `POST /api/v1/channels/{id}/webchat/identity-secret`: a new identity secret, shown once.
struct WebchatSecretController {
    let services: Services

    struct SecretView: Encodable, Sendable {
        let identitySecret: String
    }

    func register(_ api: APIRoutes) {
        api.authenticated(.post, "/api/v1/channels/{id}/webchat/identity-secret", RouteDoc(
            summary: "Rotate a website chat channel's identity secret (owners and managers); the new secret is shown once, and visitors verified with the old one start over",
            tag: "channels", response: "WebchatIdentitySecret", status: 201, errors: [403, 404]), handler: rotate)
    }

    @Sendable func rotate(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<SecretView> {
        let identity = try context.requireAdministrator()
        let id = try context.id("id", what: "channel")
        guard let secret = try await services.webchat.rotateIdentitySecret(channelId: id, workspaceId: identity.user.workspaceId,
                                                                           actorUserId: identity.user.id, at: services.clock.now()) else {
            throw APIError.notFound("website chat channel")
        }
        return JSONResponse(SecretView(identitySecret: secret), status: .created)
    }
}

extension OpenAPIDocument {
    /// Schemas of website chat: its channel settings and the widget's routes.
    static let webchatSchemas: [(String, JSONValue)] = [
        ("OfficeHours", Schema.object([
            ("timeZone", Schema.string), ("days", Schema.array(["type": "integer", "minimum": 1, "maximum": 7])),
            ("opens", ["type": "string", "description": "HH:mm"]), ("closes", ["type": "string", "description": "HH:mm"]),
        ], required: ["timeZone", "days", "opens", "closes"])),
        ("WebchatSettingsInput", Schema.object([
            ("allowedOrigins", Schema.array(Schema.string)), ("color", ["type": "string", "description": "#rrggbb"]), ("greeting", Schema.string),
            ("prechatForm", Schema.boolean), ("offlineText", Schema.string), ("officeHours", ["oneOf": [Schema.ref("OfficeHours"), ["type": "null"]]]),
        ])),
        ("WebchatSettings", Schema.object([
            ("key", Schema.string), ("allowedOrigins", Schema.array(Schema.string)), ("color", Schema.string), ("greeting", Schema.string),
            ("prechatForm", Schema.boolean), ("offlineText", Schema.string), ("officeHours", ["oneOf": [Schema.ref("OfficeHours"), ["type": "null"]]]),
            ("snippet", Schema.string), ("identitySecret", Schema.nullableString),
        ], required: ["key", "allowedOrigins", "color", "greeting", "prechatForm", "offlineText", "snippet"])),
        ("WebchatIdentitySecret", Schema.object([("identitySecret", Schema.string)], required: ["identitySecret"])),
        ("WidgetSessionRequest", Schema.object([
            ("channel", Schema.string), ("token", Schema.nullableString),
            ("user", Schema.object([("identifier", Schema.string), ("identifierHash", Schema.string), ("name", Schema.nullableString),
                                    ("email", Schema.nullableString)], required: ["identifier", "identifierHash"])),
        ], required: ["channel"])),
        ("WidgetMessage", Schema.object([
            ("id", Schema.integer), ("from", Schema.enumeration(["visitor", "agent"])), ("text", Schema.string), ("at", Schema.dateTime),
            ("status", Schema.enumeration(DeliveryStatus.allCases.map(\.rawValue))), ("author", Schema.nullableString),
            ("attachments", ["type": ["array", "null"], "items": Schema.ref("WidgetAttachment")]),
        ], required: ["id", "from", "text", "at", "status"])),
        ("WidgetAttachment", Schema.object([
            ("id", Schema.integer), ("kind", Schema.enumeration(AttachmentKind.allCases.map(\.rawValue))),
            ("status", Schema.enumeration(["pending", "stored", "failed"])), ("fileName", Schema.string),
            ("contentType", Schema.nullableString), ("size", Schema.nullableInteger),
            ("url", ["type": ["string", "null"], "description": "a signed link, valid for an hour"]),
        ], required: ["id", "kind", "status", "fileName"])),
        ("WidgetMessagePage", Schema.page(of: "WidgetMessage")),
        ("WidgetSession", Schema.object([
            ("token", Schema.string),
            ("visitor", Schema.object([("verified", Schema.boolean), ("known", Schema.boolean), ("name", Schema.nullableString), ("email", Schema.nullableString)],
                                      required: ["verified", "known"])),
            ("messages", Schema.array(Schema.ref("WidgetMessage"))), ("hasMore", Schema.boolean), ("unread", Schema.integer), ("offline", Schema.boolean),
        ], required: ["token", "visitor", "messages", "hasMore", "unread", "offline"])),
        ("WidgetMessageRequest", Schema.object([
            ("text", Schema.string), ("clientId", Schema.nullableString), ("name", Schema.nullableString), ("email", Schema.nullableString),
            ("attachmentIds", ["type": "array", "items": Schema.integer, "maxItems": 1, "description": "one file uploaded with POST /widget/v1/attachments; text may then be empty"]),
        ], required: ["text"])),
    ]
}
