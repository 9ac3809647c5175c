import Crypto
import Foundation

/// Signed webhooks carrying files, in each provider's shape; the file must be hosted first
/// (``hostMedia(_:contentType:fileName:id:)``) under the id the webhook names.
extension ProviderSimulator {
    /// A Telegram update with a photo (`kind` "photo") or another file ("document", "audio", "video", "voice").
    public func telegramMediaUpdate(chatId: Int64, messageId: Int, kind: String, fileId: String, fileName: String? = nil, caption: String? = nil,
                                    firstName: String, at date: Date, secret: String) -> (body: [UInt8], headers: [(String, String)]) {
        var file: [String: Any] = ["file_id": fileId, "file_unique_id": "u\(fileId)"]
        if let fileName { file["file_name"] = fileName }
        var message: [String: Any] = ["message_id": messageId, "from": ["id": chatId, "is_bot": false, "first_name": firstName],
                                      "chat": ["id": chatId, "type": "private"], "date": Int(date.timeIntervalSince1970)]
        message[kind] = kind == "photo" ? [file] : file
        if let caption { message["caption"] = caption }
        let body = Array((try? JSONSerialization.data(withJSONObject: ["update_id": nextId(), "message": message])) ?? Data())
        return (body, [("Content-Type", "application/json"), ("X-Telegram-Bot-Api-Secret-Token", secret)])
    }

    /// A LINE message event of `type` "image", "video", "audio" or "file"; the content is hosted under `messageId`.
    public func lineMediaInbound(userId: String, messageId: String, type: String, fileName: String? = nil, at date: Date,
                                 channelSecret: String) -> (body: [UInt8], headers: [(String, String)]) {
        var message: [String: Any] = ["id": messageId, "type": type, "contentProvider": ["type": "line"]]
        if let fileName { message["fileName"] = fileName }
        let event: [String: Any] = [
            "type": "message", "mode": "active", "timestamp": Int64(date.timeIntervalSince1970 * 1000),
            "webhookEventId": "01SIM\(nextId())", "deliveryContext": ["isRedelivery": false],
            "replyToken": "rt\(nextId())", "source": ["type": "user", "userId": userId], "message": message,
        ]
        let body = Array((try? JSONSerialization.data(withJSONObject: ["destination": "U0000000000000000000000000000bot0", "events": [event]])) ?? Data())
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(body), using: SymmetricKey(data: Data(channelSecret.utf8)))).base64EncodedString()
        return (body, [("Content-Type", "application/json; charset=utf-8"), ("X-Line-Signature", signature)])
    }

    /// A WeChat image, voice or video message naming `mediaId`, with the signed query string.
    public func wechatMediaInbound(openId: String, type: String, mediaId: String, msgId: Int64, at date: Date, token: String) -> (body: [UInt8], query: String) {
        contactWrote(.wechat, recipient: openId, at: date)
        let extra = type == "image" ? "<PicUrl><![CDATA[\(baseURL)/cdn/\(mediaId)]]></PicUrl>" : type == "voice" ? "<Format><![CDATA[amr]]></Format>" : ""
        let xml = """
            <xml><ToUserName><![CDATA[gh_parley_sim]]></ToUserName><FromUserName><![CDATA[\(Self.cdata(openId))]]></FromUserName>\
            <CreateTime>\(Int64(date.timeIntervalSince1970))</CreateTime><MsgType><![CDATA[\(type)]]></MsgType>\
            \(extra)<MediaId><![CDATA[\(Self.cdata(mediaId))]]></MediaId><MsgId>\(msgId)</MsgId></xml>
            """
        return (Array(xml.utf8), wechatSignedQuery(token: token, at: date))
    }

    /// An inbound MMS with files at `media` (URL, content type), as Twilio posts it to `url`.
    public func twilioMMS(from: String, to: String, sid: String, body: String, media: [(url: String, contentType: String)], url: String,
                          authToken: String, accountSid: String = "ACsimulated") -> (body: [UInt8], headers: [(String, String)]) {
        var fields = [("MessageSid", sid), ("SmsMessageSid", sid), ("SmsSid", sid), ("AccountSid", accountSid), ("From", from), ("To", to),
                      ("Body", body), ("NumMedia", String(media.count)), ("NumSegments", "1"), ("SmsStatus", "received"), ("ApiVersion", "2010-04-01")]
        for (index, file) in media.enumerated() {
            fields += [("MediaUrl\(index)", file.url), ("MediaContentType\(index)", file.contentType)]
        }
        return twilioSigned(fields, url: url, authToken: authToken)
    }
}
