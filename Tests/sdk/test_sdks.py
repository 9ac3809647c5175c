"""Webhooks signed the way the providers' official SDKs check them, the documented examples
parsed by those SDKs, and what Parley sends parsed by (or compared with) the SDKs' own requests."""
import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
import uuid

import pytest
from conftest import fixtures

from linebot.v3 import WebhookParser
from linebot.v3.messaging import PushMessageRequest, UserProfileResponse
from linebot.v3.webhook import SignatureValidator
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client as TwilioClient
from viberbot import Api as ViberApi
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.messages import TextMessage, get_message
from wechatpy import WeChatClient, parse_message
from wechatpy.utils import check_signature


def send(parley, contact_id, channel_id, text):
    status, body = parley.call("POST", f"/api/v1/contacts/{contact_id}/messages", {"channelId": channel_id, "text": text})
    assert status == 201, body
    return body["message"]


def wait_until(check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition never held")


def test_line(parley, provider):
    secret, user = "line-secret", "U4af4980629a0b1c2d3e4f5a6b7c8d9e0"
    channel = parley.channel("line", {"channelAccessToken": "line-token", "channelSecret": secret}, provider.base)
    provider.profiles[user] = json.loads(UserProfileResponse(display_name="Kenji Sato", user_id=user).to_json())
    parser = WebhookParser(secret)
    for path in fixtures("line"):
        fixture = json.loads(path.read_text())
        body = json.dumps(fixture["body"], ensure_ascii=False)
        signature = base64.b64encode(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()).decode()
        assert SignatureValidator(secret).validate(body, signature), path.name
        assert parser.parse(body, signature), f"the SDK reads {path.name}"
        status, answer = parley.call("POST", f"/webhooks/{channel}", raw=body.encode(), token=False, headers={"X-Line-Signature": signature})
        assert status == 200, (path.name, answer)
    forged = parley.call("POST", f"/webhooks/{channel}", raw=b'{"events":[]}', token=False, headers={"X-Line-Signature": "AAAA"})
    assert forged[0] == 401

    # The sender came without a name; Parley asks LINE's profile API (beside the webhook).
    contact = wait_until(lambda: parley.contact("Kenji"))[0]
    kinds = {m["contentKind"] for m in parley.timeline(contact["id"])}
    assert {"text", "image", "sticker", "location", "file", "postback"} <= kinds
    send(parley, contact["id"], channel, "Your order ships today")
    push = provider.wait_for(lambda r: r["path"] == "/v2/bot/message/push")
    request = PushMessageRequest.from_json(push["body"].decode())
    assert request.to == user
    assert request.messages[0].text == "Your order ships today"
    assert push["headers"]["authorization"] == "Bearer line-token"
    uuid.UUID(push["headers"]["x-line-retry-key"])


def test_viber(parley, provider):
    token = "viber-auth-token"
    channel = parley.channel("viber", {"authToken": token, "senderName": "Parley Support"}, provider.base)
    api = ViberApi(BotConfiguration(name="Parley Support", avatar="", auth_token=token))
    for path in fixtures("viber"):
        fixture = json.loads(path.read_text())
        if "setup" in fixture:
            continue  # statuses of messages this server never sent; covered by the Swift fixtures test
        body = json.dumps(fixture["body"], ensure_ascii=False).encode()
        signature = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
        assert api.verify_signature(body, signature), path.name
        assert api.parse_request(body) is not None, f"the SDK reads {path.name}"
        status, answer = parley.call("POST", f"/webhooks/{channel}", raw=body, token=False, headers={"X-Viber-Content-Signature": signature})
        assert status == 200, (path.name, answer)
    assert parley.call("POST", f"/webhooks/{channel}", raw=b'{"event":"message"}', token=False,
                       headers={"X-Viber-Content-Signature": "00"})[0] == 401

    contact = parley.contact("John McClane")[0]
    send(parley, contact["id"], channel, "Hello John")
    sent = provider.wait_for(lambda r: r["path"] == "/pa/send_message")
    payload = json.loads(sent["body"])
    message = get_message(payload)
    assert isinstance(message, TextMessage) and message.text == "Hello John"
    assert payload["receiver"] == "01234567890A="
    assert sent["headers"]["x-viber-auth-token"] == token
    # The SDK's own request for the same message has the same fields (it puts the token in the body).
    reference = api._message_sender._prepare_payload(message=TextMessage(text="Hello John"), sender_name="Parley Support",
                                                     sender_avatar=None, receiver="01234567890A=")
    assert set(reference) - {"auth_token"} <= set(payload)
    assert {k: payload[k] for k in ("type", "text", "receiver")} == {k: reference[k] for k in ("type", "text", "receiver")}
    assert payload["sender"]["name"] == reference["sender"]["name"]


def test_wechat(parley, provider):
    token, openid = "wechat-token", "oFromUser0002"
    channel = parley.channel("wechat", {"appId": "wx1", "appSecret": "wx-secret", "token": token}, provider.base)

    def post(xml):
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex  # a nonce is taken once
        signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
        check_signature(token, signature, timestamp, nonce)  # raises unless the SDK agrees
        query = urllib.parse.urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})
        return parley.call("POST", f"/webhooks/{channel}?{query}", raw=xml.encode(), token=False, headers={"Content-Type": "text/xml"})

    for path in fixtures("wechat"):
        xml = json.loads(path.read_text())["xml"]
        assert parse_message(xml) is not None, f"the SDK reads {path.name}"
        status, answer = post(xml)
        assert (status, answer) == (200, "success"), path.name
    now = int(time.time())
    status, _ = post(f"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
                     f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[在吗？]]></Content><MsgId>{now}001</MsgId></xml>")
    assert status == 200
    status, contacts = parley.call("GET", "/api/v1/contacts?limit=200")
    contact = next(c for c in contacts["items"] if any(i["externalId"] == openid for i in c["identities"]))
    send(parley, contact["id"], channel, "在的，请问有什么可以帮您？")
    sent = provider.wait_for(lambda r: r["path"].startswith("/cgi-bin/message/custom/send"))
    # wechatpy's own request for the same message, against the same stand-in.
    client = WeChatClient("wx1", "wx-secret", access_token="ACCESS_TOKEN")
    client.API_BASE_URL = provider.base + "/cgi-bin/"
    client.message.send_text(openid, "在的，请问有什么可以帮您？")
    reference = provider.requests[-1]
    assert reference["path"].startswith("/cgi-bin/message/custom/send")
    assert json.loads(sent["body"]) == json.loads(reference["body"])
    assert "access_token=ACCESS_TOKEN" in sent["path"]


class CapturingTwilioHttp(HttpClient):
    """The SDK's transport replaced: it records the request and answers as Twilio does."""

    def __init__(self):
        super().__init__(logger=logging.getLogger("twilio-capture"), is_async=False)
        self.captured = None

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        self.captured = {"method": method, "uri": uri, "data": data}
        return TwilioResponse(201, json.dumps({"sid": "SM" + "1" * 32, "status": "queued"}))


def test_twilio(parley, provider):
    sid, token, number = "AC0123456789abcdef0123456789abcdef", "twilio-token", "+15557122661"
    channel = parley.channel("sms", {"accountSid": sid, "authToken": token, "from": number}, provider.base)
    url = f"{parley.base}/webhooks/{channel}"
    validator = RequestValidator(token)

    def post(params, signature=None):
        if signature is None:
            signature = validator.compute_signature(url, params)
            assert validator.validate(url, params, signature)
        return parley.call("POST", f"/webhooks/{channel}", raw=urllib.parse.urlencode(params).encode(), token=False,
                           headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})

    for path in fixtures("sms"):
        fixture = json.loads(path.read_text())
        if "setup" in fixture:
            continue
        status, answer = post(fixture["form"])
        assert status == 200 and answer.strip() == "<Response></Response>", (path.name, answer)
    assert post({"MessageSid": "SMforged", "From": "+1", "Body": "x"}, signature="Zm9yZ2Vk")[0] == 401

    # Found by the phone number the SMS came from, although nobody typed it in.
    contact = parley.contact("(401) 712-26")[0]
    assert contact["phone"] == "+14017122661"
    message = send(parley, contact["id"], channel, "Thanks, we got your photos")
    sent = provider.wait_for(lambda r: r["path"].endswith("/Messages.json"))
    form = dict(urllib.parse.parse_qsl(sent["body"].decode()))
    # The SDK's own request for the same message.
    transport = CapturingTwilioHttp()
    TwilioClient(sid, token, http_client=transport).messages.create(to=form["To"], from_=number, body=form["Body"], status_callback=url)
    assert transport.captured["uri"].endswith(sent["path"])
    assert form == {k: v for k, v in transport.captured["data"].items() if v is not None}
    assert form["StatusCallback"] == url
    expected = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
    assert sent["headers"]["authorization"] == expected

    # Twilio's status callback for it, signed by the SDK, moves the message forward.
    provider_sid = wait_until(lambda: next((m["providerMessageId"] for m in parley.timeline(contact["id"])
                                            if m["id"] == message["id"] and m["status"] == "sent"), None))
    assert post({"MessageSid": provider_sid, "MessageStatus": "delivered", "AccountSid": sid, "To": form["To"], "From": number})[0] == 200
    assert next(m for m in parley.timeline(contact["id"]) if m["id"] == message["id"])["status"] == "delivered"
