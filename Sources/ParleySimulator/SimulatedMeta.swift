import Crypto
import Foundation
import Hummingbird
import ParleyCore

/// Meta's Graph API: WhatsApp Cloud (`/vN/<phone-number-id>/messages`, templates) and the
/// Messenger / Instagram Send API (`/vN/me/messages`).
extension ProviderSimulator {
    static func metaError(_ status: Int, code: Int, subcode: Int? = nil, message: String) -> Response {
        var error: [String: Any] = ["message": message, "type": "OAuthException", "code": code, "fbtrace_id": "SIM\(code)"]
        if let subcode { error["error_subcode"] = subcode }
        return json(status, ["error": error])
    }

    func whatsapp(_ request: Recorded) -> Response {
        let segments = request.path.split(separator: "/").map(String.init)
        let token = request.headers["authorization"].map { String($0.dropFirst("Bearer ".count)) } ?? ""
        guard state.withLock({ $0.metaTokens[token] == .whatsapp }) else {
            return Self.metaError(401, code: 190, message: "Invalid OAuth access token - Cannot parse access token")
        }
        if let media = whatsappMedia(request, segments: segments) { return media }
        if request.method == "GET", segments.count == 2 {
            return Self.json(200, ["id": segments[1], "display_phone_number": "+1 555 0100", "verified_name": "Parley Demo"])
        }
        if request.method == "GET", segments.count == 3, segments[2] == "message_templates" {
            let list = state.withLock { $0.templates[segments[1]] ?? [] }
            let data = list.enumerated().map { index, t -> [String: Any] in
                ["id": "tpl\(index)", "name": t.name, "language": t.language, "status": t.status, "category": t.category,
                 "components": [["type": "BODY", "text": t.body]]]
            }
            return Self.json(200, ["data": data, "paging": ["cursors": ["before": "a", "after": "b"]]])
        }
        guard request.method == "POST", segments.count == 3, segments[2] == "messages" else {
            return Self.metaError(400, code: 100, message: "Unsupported request")
        }
        let payload = request.json
        // A contact known only by a business-scoped user id is addressed with `recipient`.
        guard payload["messaging_product"] as? String == "whatsapp", let to = payload["to"] as? String ?? payload["recipient"] as? String,
              let type = payload["type"] as? String else {
            return Self.metaError(400, code: 100, message: "(#100) Invalid parameter")
        }
        switch type {
        case "text":
            guard let body = (payload["text"] as? [String: Any])?["body"] as? String, !body.isEmpty else {
                return Self.metaError(400, code: 100, message: "(#100) The parameter text['body'] is required.")
            }
            guard withinWindow(.whatsapp, recipient: to, length: 24 * 3600) else {
                return Self.metaError(400, code: 131047, message: "Re-engagement message")
            }
        case "template":
            guard let template = payload["template"] as? [String: Any], let name = template["name"] as? String,
                  let language = (template["language"] as? [String: Any])?["code"] as? String else {
                return Self.metaError(400, code: 100, message: "(#100) Invalid parameter")
            }
            let known = state.withLock { $0.templates.values.flatMap { $0 } }
            guard known.contains(where: { $0.name == name && $0.language == language && $0.status == "APPROVED" }) else {
                return Self.metaError(404, code: 132001, message: "(#132001) Template name does not exist in the translation")
            }
        case "image", "audio", "video", "document", "sticker":
            guard let media = payload[type] as? [String: Any], (media["link"] as? String)?.hasPrefix("http") == true || media["id"] != nil else {
                return Self.metaError(400, code: 100, message: "(#100) The parameter \(type)['link'] or \(type)['id'] is required.")
            }
            guard withinWindow(.whatsapp, recipient: to, length: 24 * 3600) else {
                return Self.metaError(400, code: 131047, message: "Re-engagement message")
            }
        default:
            return Self.metaError(400, code: 100, message: "(#100) Unsupported message type")
        }
        let id = "wamid.SIM\(nextId())"
        return Self.json(200, ["messaging_product": "whatsapp", "contacts": [["input": to, "wa_id": to]], "messages": [["id": id]]])
    }

    func messenger(_ request: Recorded) -> Response {
        if request.method == "GET" { return metaProfile(request) }
        let token = request.query["access_token"] ?? ""
        guard let provider = state.withLock({ $0.metaTokens[token] }), provider == .messenger || provider == .whatsapp else {
            return Self.metaError(401, code: 190, message: "Invalid OAuth access token.")
        }
        let payload = request.json
        let message = payload["message"] as? [String: Any] ?? [:]
        let attachmentURL = ((message["attachment"] as? [String: Any])?["payload"] as? [String: Any])?["url"] as? String
        guard let recipient = (payload["recipient"] as? [String: Any])?["id"] as? String,
              !(message["text"] as? String ?? "").isEmpty || attachmentURL?.hasPrefix("http") == true else {
            return Self.metaError(400, code: 100, message: "(#100) Param recipient[id] must be a valid ID string")
        }
        let type = payload["messaging_type"] as? String ?? "RESPONSE"
        let tag = payload["tag"] as? String
        let withinDay = withinWindow(.messenger, recipient: recipient, length: 24 * 3600)
        let withinWeek = withinWindow(.messenger, recipient: recipient, length: 7 * 24 * 3600)
        switch (type, tag) {
        case ("RESPONSE", _), ("UPDATE", _):
            if !withinDay { return Self.metaError(400, code: 10, subcode: 2018278, message: "(#10) This message is sent outside of allowed window.") }
        case ("MESSAGE_TAG", "HUMAN_AGENT"?):
            if !withinWeek { return Self.metaError(400, code: 10, subcode: 2018278, message: "(#10) This message is sent outside of allowed window.") }
        case ("MESSAGE_TAG", let tag?) where ["CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"].contains(tag):
            break
        default:
            return Self.metaError(400, code: 100, message: "(#100) Invalid messaging_type or tag")
        }
        return Self.json(200, ["recipient_id": recipient, "message_id": "m_SIM\(nextId())"])
    }

    /// A signed WhatsApp webhook carrying one inbound text message.
    public func whatsappInbound(from waId: String, name: String, messageId: String, text: String, at date: Date,
                                phoneNumberId: String, appSecret: String) -> (body: [UInt8], headers: [(String, String)]) {
        let value: [String: Any] = [
            "messaging_product": "whatsapp",
            "metadata": ["display_phone_number": "15550100", "phone_number_id": phoneNumberId],
            "contacts": [["profile": ["name": name], "wa_id": waId]],
            "messages": [["from": waId, "id": messageId, "timestamp": String(Int(date.timeIntervalSince1970)), "type": "text", "text": ["body": text]]],
        ]
        contactWrote(.whatsapp, recipient: waId, at: date)
        return metaSigned(["object": "whatsapp_business_account", "entry": [["id": "WABA", "changes": [["field": "messages", "value": value]]]]], secret: appSecret)
    }

    /// A signed WhatsApp status callback for one of our messages.
    public func whatsappStatus(messageId: String, status: String, recipient: String, errorCode: Int? = nil, at date: Date,
                               phoneNumberId: String, appSecret: String) -> (body: [UInt8], headers: [(String, String)]) {
        var entry: [String: Any] = ["id": messageId, "status": status, "timestamp": String(Int(date.timeIntervalSince1970)), "recipient_id": recipient]
        if let errorCode { entry["errors"] = [["code": errorCode, "title": "Re-engagement message"]] }
        let value: [String: Any] = ["messaging_product": "whatsapp", "metadata": ["phone_number_id": phoneNumberId], "statuses": [entry]]
        return metaSigned(["object": "whatsapp_business_account", "entry": [["id": "WABA", "changes": [["field": "messages", "value": value]]]]], secret: appSecret)
    }

    /// A signed Messenger (or Instagram) webhook carrying one inbound message.
    public func messengerInbound(from psid: String, messageId: String, text: String, at date: Date, appSecret: String,
                                 object: String = "page") -> (body: [UInt8], headers: [(String, String)]) {
        contactWrote(.messenger, recipient: psid, at: date)
        let event: [String: Any] = ["sender": ["id": psid], "recipient": ["id": "PAGE"], "timestamp": Int64(date.timeIntervalSince1970 * 1000),
                                    "message": ["mid": messageId, "text": text]]
        return metaSigned(["object": object, "entry": [["id": "PAGE", "time": Int64(date.timeIntervalSince1970 * 1000), "messaging": [event]]]], secret: appSecret)
    }

    func metaSigned(_ object: [String: Any], secret: String) -> (body: [UInt8], headers: [(String, String)]) {
        let body = Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        let signature = HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(secret.utf8)))
            .hexEncoded
        return (body, [("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=\(signature)")])
    }
}

extension ProviderSimulator {
    /// Signs a body as Meta signs webhooks (a fixture, or a payload built by a test).
    public func metaSigned(body: [UInt8], appSecret: String) -> (body: [UInt8], headers: [(String, String)]) {
        let signature = HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(appSecret.utf8)))
            .hexEncoded
        return (body, [("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=\(signature)")])
    }
}
