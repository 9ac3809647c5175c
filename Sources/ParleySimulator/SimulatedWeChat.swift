import Crypto
import Foundation
import Hummingbird
import ParleyCore

/// WeChat Official Account API: `/cgi-bin/token` and `/cgi-bin/message/custom/send`. WeChat
/// answers HTTP 200 and puts the error in `errcode`. Customer-service messages are allowed for
/// 48 hours after the user's last message and at most 20 times in that window.
extension ProviderSimulator {
    public static let weChatTokenLifetime = 7200
    static let weChatWindow: TimeInterval = 48 * 3600
    static let weChatMessagesPerWindow = 20

    func wechat(_ request: Recorded) -> Response {
        switch request.path {
        case "/cgi-bin/token":
            return wechatToken(request)
        case "/cgi-bin/message/custom/send" where request.method == "POST":
            return wechatSend(request)
        case "/cgi-bin/user/info":
            return wechatProfile(request)
        case "/cgi-bin/media/get", "/cgi-bin/media/upload":
            let current = now()
            guard let issued = state.withLock({ $0.wechatTokens[request.query["access_token"] ?? ""] }), issued.expiresAt > current else {
                return Self.json(200, ["errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"])
            }
            return request.path == "/cgi-bin/media/get" ? wechatMediaGet(request) : wechatMediaUpload(request)
        default:
            return Self.json(404, ["errcode": 40066, "errmsg": "invalid url"])
        }
    }

    private func wechatToken(_ request: Recorded) -> Response {
        guard request.query["grant_type"] == "client_credential" else {
            return Self.json(200, ["errcode": 40002, "errmsg": "invalid grant_type"])
        }
        let appId = request.query["appid"] ?? ""
        guard let secret = state.withLock({ $0.wechatApps[appId] }) else {
            return Self.json(200, ["errcode": 40013, "errmsg": "invalid appid"])
        }
        guard request.query["secret"] == secret else {
            return Self.json(200, ["errcode": 40125, "errmsg": "invalid appsecret"])
        }
        let token = "SIMTOKEN-\(appId)-\(nextId())"
        let expiresAt = now().addingTimeInterval(TimeInterval(Self.weChatTokenLifetime))
        state.withLock { $0.wechatTokens[token] = (appId, expiresAt) }
        return Self.json(200, ["access_token": token, "expires_in": Self.weChatTokenLifetime])
    }

    private func wechatSend(_ request: Recorded) -> Response {
        let current = now()
        guard let issued = state.withLock({ $0.wechatTokens[request.query["access_token"] ?? ""] }), issued.expiresAt > current else {
            return Self.json(200, ["errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"])
        }
        let payload = request.json
        guard let openId = payload["touser"] as? String, !openId.isEmpty, wechatContentIsValid(payload) else {
            return Self.json(200, ["errcode": 47001, "errmsg": "data format error"])
        }
        let refusal: (Int, String)? = state.withLock { state in
            if !state.wechatForcedErrors.isEmpty {
                let code = state.wechatForcedErrors.removeFirst()
                return (code, Self.weChatMessages[code] ?? "system error")
            }
            guard let opened = state.lastInbound["\(Provider.wechat.rawValue):\(openId)"],
                  current.timeIntervalSince(opened) < Self.weChatWindow else {
                return (45015, "response out of time limit or subscription is canceled")
            }
            // A new message from the user opens a new window with a fresh count.
            var sent = state.wechatSent[openId] ?? (opened, 0)
            if sent.window != opened { sent = (opened, 0) }
            guard sent.count < Self.weChatMessagesPerWindow else { return (45047, "out of response count limit") }
            sent.count += 1
            state.wechatSent[openId] = sent
            return nil
        }
        if let (code, message) = refusal {
            return Self.json(200, ["errcode": code, "errmsg": message])
        }
        return Self.json(200, ["errcode": 0, "errmsg": "ok"])
    }

    static let weChatMessages: [Int: String] = [
        -1: "system error", 40001: "invalid credential", 40003: "invalid openid", 43004: "require subscribe",
        45009: "reach max api daily quota limit", 45015: "response out of time limit or subscription is canceled",
        45047: "out of response count limit",
    ]

    // MARK: Control

    public func acceptWeChatApp(appId: String, secret: String) { state.withLock { $0.wechatApps[appId] = secret } }

    /// Every access token issued so far stops working, as after WeChat's two hours.
    public func expireWeChatTokens() {
        let past = now().addingTimeInterval(-1)
        state.withLock { state in
            for token in state.wechatTokens.keys { state.wechatTokens[token]?.expiresAt = past }
        }
    }

    /// Sets how many messages `openId` has been sent in its current window.
    public func setWeChatMessageCount(_ count: Int, openId: String) {
        state.withLock { state in
            if let opened = state.lastInbound["\(Provider.wechat.rawValue):\(openId)"] { state.wechatSent[openId] = (opened, count) }
        }
    }

    /// The next `count` well-formed sends with a valid token answer this `errcode` (-1, 45009, 40003…).
    public func failNextWeChatSends(errcode: Int, count: Int = 1) {
        state.withLock { $0.wechatForcedErrors += Array(repeating: errcode, count: count) }
    }

    // MARK: Webhooks

    /// A text message from `openId` as WeChat POSTs it, with the signed query string; also opens
    /// the provider-side window.
    public func wechatInbound(openId: String, text: String, msgId: Int64, at date: Date, token: String) -> (body: [UInt8], query: String) {
        contactWrote(.wechat, recipient: openId, at: date)
        let xml = """
            <xml><ToUserName><![CDATA[gh_parley_sim]]></ToUserName><FromUserName><![CDATA[\(Self.cdata(openId))]]></FromUserName>\
            <CreateTime>\(Int64(date.timeIntervalSince1970))</CreateTime><MsgType><![CDATA[text]]></MsgType>\
            <Content><![CDATA[\(Self.cdata(text))]]></Content><MsgId>\(msgId)</MsgId></xml>
            """
        return (Array(xml.utf8), wechatSignedQuery(token: token, at: date))
    }

    /// An event (`subscribe`, `unsubscribe`, `CLICK`, `SCAN`) from `openId`, with the signed query string.
    public func wechatEvent(openId: String, event: String, at date: Date, token: String) -> (body: [UInt8], query: String) {
        let xml = """
            <xml><ToUserName><![CDATA[gh_parley_sim]]></ToUserName><FromUserName><![CDATA[\(Self.cdata(openId))]]></FromUserName>\
            <CreateTime>\(Int64(date.timeIntervalSince1970))</CreateTime><MsgType><![CDATA[event]]></MsgType>\
            <Event><![CDATA[\(Self.cdata(event))]]></Event></xml>
            """
        return (Array(xml.utf8), wechatSignedQuery(token: token, at: date))
    }

    /// `signature`, `timestamp` and `nonce` (and `echostr` for the GET check) as WeChat sends them.
    public func wechatSignedQuery(token: String, at date: Date, echostr: String? = nil) -> String {
        let timestamp = String(Int64(date.timeIntervalSince1970))
        let nonce = String(UInt32.random(in: 100_000_000...UInt32.max))
        let joined = [token, timestamp, nonce].sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined()
        let signature = Insecure.SHA1.hash(data: Data(joined.utf8)).hexEncoded
        var query = "signature=\(signature)&timestamp=\(timestamp)&nonce=\(nonce)"
        if let echostr { query += "&echostr=\(echostr.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? echostr)" }
        return query
    }

    /// Text safe inside a CDATA section: a literal `]]>` is split across two sections.
    static func cdata(_ text: String) -> String {
        text.replacingOccurrences(of: "]]>", with: "]]]]><![CDATA[>")
    }
}
