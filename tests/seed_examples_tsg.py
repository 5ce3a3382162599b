"""TSG Global example payloads copied from the provider document (seed 002, ground truth) and,
where marked, from the research fact sheet's quotes of TSG's send and DLR pages."""

# seed 002: GET /messages/<uuid>, a single message. The document's copy lacks the comma after
# "body": "hello" (a JSON syntax error); it is restored here.
GET_SINGLE_002 = {
    "id": "03b4641f-17a6-4565-bdba-1ce905be3312",
    "type": "outbound",
    "from": "12341234",
    "to": "12342341234",
    "object": "sms",
    "body": "hello",
    "encoding": 3,
    "delivery_receipt": "no",
    "status": "new",
    "location": None,
    "inserted_at": "2017-09-17T19:12:32.792699",
    "updated_at": "2017-09-17T19:12:32.792704",
    "scheduled_at": None,
    "processed_at": None,
    "delivered_at": None,
    "expires_at": None,
}

MULTIPART_BODY_002 = (
    "hello this is an extremely long message that spans 3 actual SMS messages sent from the "
    "carrier to the user. The phone will reassemble all of these messages into one longer, "
    "single message. We're currently at 2 parts, but let's keep going until we hit 3 parts. At "
    "a simple text message (no emoji), that will probably be around 3*140 characters, encoded "
    "as latin-1"
)

# seed 002: a longer message consisting of multiple UDH parts
GET_MULTIPART_002 = {
    "id": "0ab46aaa-17a6-a5a5-7dba-1ce905be3312",
    "udh": {"ref_num": 541, "count": 3},
    "parts": [
        {"id": "3322dcb5-d668-4148-b94c-3f4b3faf670e"},
        {"id": "b5fe304f-374e-4558-95f7-4a3ffdfb7784"},
        {"id": "fbfb2ddc-f7e4-42b5-9bb8-6778f6d45987"},
    ],
    "type": "outbound",
    "from": "12341234",
    "to": "12342341234",
    "object": "sms",
    "body": MULTIPART_BODY_002,
    "encoding": 3,
    "delivery_receipt": "no",
    "status": "new",
    "location": None,
    "inserted_at": "2017-09-17T19:12:32.792699",
    "updated_at": "2017-09-17T19:12:32.792704",
    "scheduled_at": None,
    "processed_at": None,
    "delivered_at": None,
    "expires_at": None,
}

# seed 002: the package sent to your webhook (an inbound sms)
WEBHOOK_SMS_002 = {
    "body": "Test 4",
    "delivered_at": None,
    "delivery_receipt": "no",
    "encoding": 3,
    "expires_at": None,
    "from": "14252437709",
    "id": "0658b5fd-d36d-49ae-9e58-d0a7f053f1bb",
    "inserted_at": "2022-04-06T21:49:29.926166",
    "location": None,
    "object": "sms",
    "processed_at": None,
    "scheduled_at": None,
    "status": "new",
    "to": "13462239287",
    "type": "inbound",
    "udh": {"count": None, "ref_num": None, "seq_num": None},
    "updated_at": "2022-04-06T21:49:29.926166",
}

# seed 002: example DLR (its done_at keeps seconds although the field is "minute accuracy")
DLR_002 = {
    "id": "500fe938-fd2d-4dc1-a186-592e71112388",
    "type": "inbound",
    "from": "15678234",
    "to": "12342341234",
    "object": "sms_dlr",
    "delivery_status": "delivered",
    "delivery_error_code": "000",
    "inserted_at": "2017-09-17T19:12:32.792699",
    "updated_at": "2017-09-17T19:12:32.792704",
    "submitted_at": "2017-06-01T18:00:00",
    "done_at": "2017-06-01T18:00:05",
    "sms": {"id": "03b4641f-17a6-4565-bdba-1ce905be3312"},
}

# fact sheet §1.7 (TSG's delivery receipts page)
DLR_FACT_SHEET = {
    "delivery_error_code": "000", "delivery_status": "delivered", "done_at": "2022-04-13T21:35:00",
    "from": "14252437709", "id": "a2692312-2050-4a50-9123-ca7b4cde0db7",
    "inserted_at": "2022-04-13T21:35:22.401373", "object": "sms_dlr",
    "sms": {"id": "a4c56a01-4daf-4ae1-9732-025b427add13"}, "submitted_at": "2022-04-13T21:35:00",
    "to": "18574914340", "type": "inbound", "updated_at": "2022-04-13T21:35:22.401373",
}

# fact sheet §1.3 (TSG's send page): the answer keyed by recipient; the document elides the
# second recipient's object ("12342341234": {...}), so only the first is kept
SEND_RESPONSE_FACT_SHEET = {
    "9999999": {
        "updated_at": "2017-09-28T08:28:39.132046", "type": "outbound", "to": "9999999",
        "status": "new", "scheduled_at": None, "expires_at": None, "processed_at": None,
        "object": "sms", "location": None, "inserted_at": "2017-09-28T08:28:39.132037",
        "id": "1e7bd5e9-d9ba-41de-814e-3fe755e60e83", "from": "15550555055", "encoding": 3,
        "delivery_receipt": 0, "delivered_at": None, "body": "hello world",
    },
}
