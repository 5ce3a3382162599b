"""Example payloads copied from the provider documents in the shared seeds (ground truth)."""

# seed 000: Inbound SMS, the example MO notification
MO_SMS_000 = {
    "sub_resource": "mo_sms",
    "submit_timestamp": "2022-10-04T12:12:34.390000Z",
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "status": {"updated_on": "2022-10-04T12:12:34.473702Z",
               "description": "Delivered to customer", "code": 1500},
    "errors": [],
    "user_response": {"action": "stop", "iso_country_code": "US", "keyword": "arrêt",
                      "sender_id": "6281298636572", "phone_number": "11234567890",
                      "price": "0.0108", "mo_message": "arrêt"},
}

# seed 001: Messaging inbound, one example per channel
MO_EMAIL_001 = {
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "status": {"updated_on": "2023-10-31T14:47:10.490130Z",
               "description": "Delivered to customer", "code": 1500},
    "email": "[email protected]",
    "content": {"end_user_action": {"template": "text", "event": "unsubscribe"}},
    "sub_resource": "mo_email",
}
MO_MMS_001 = {
    "content": {
        "text_1": "Thank you",
        "url_image_1": "https://messaging-qa.telesign.com/mms/C62CA36E4D4001288A6329E831BA0005"
                       "image_1?Expires=1697283961&Signature=WoxkS138d6wsc&Key-Pair-Id=K132WY3",
        "subject": "",
    },
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "phone_number": "11234567890",
    "sub_resource": "mo_mms",
    "status": {"updated_on": "2023-10-13T11:46:00.347975Z",
               "description": "Delivered to customer", "code": 1500},
}
MO_RCS_IMAGE_001 = {
    "rcs_sender_id": "rcs_sender_example",
    "phone_number": "11234567890",
    "status": {"description": "Delivered to customer",
               "updated_on": "2023-10-03T09:08:07.000000Z", "code": 1500},
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "content": {"file": {"payload": {
        "name": "61999.jpg", "mime_type": "image/jpeg",
        "uri": "https://rcs-user-content-eu.storage.googleapis.com/c71c5cb4-5c1d-402d-938c-"
               "0137b1b90764/26abd8a692ecc5be69072dfff456515b22504b56851adc4952d6b3d5abc4",
        "size_bytes": 335861}}},
    "sub_resource": "mo_rcs",
}
MO_SMS_001 = {
    "status": {"code": 1500, "description": "Delivered to customer",
               "updated_on": "2023-10-31T14:47:10.490130Z"},
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "user_response": {"sender_id": "4442", "iso_country_code": "RS", "action": "start",
                      "keyword": "start", "phone_number": "11234567890", "mo_message": "Start"},
    "sub_resource": "mo_sms",
    "errors": [],
    "submit_timestamp": "2023-10-31T14:47:10.154000Z",
}
MO_VIBER_001 = {
    "content": {"text": "Thank you! 😎"},
    "phone_number": "11234567890",
    "status": {"updated_on": "2023-09-25T14:04:51.000000Z", "code": 1500,
               "description": "Delivered to customer"},
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
}
MO_WHATSAPP_001 = {
    "status": {"description": "Delivered to customer", "code": 1500,
               "updated_on": "2023-10-02T07:54:41.000000Z"},
    "content": {"content": {"body": "Thank you"}, "type": "text"},
    "phone_number": "11234567890",
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "waba_phone_number": "11234567891",
}
MO_RCS_STOP_001 = {
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "phone_number": "11234567890",
    "status": {"description": "Delivered to customer", "code": 1500,
               "updated_on": "2023-12-13T09:36:10.000000Z"},
    "rcs_sender_id": "",
    "content": {"end_user_action": {"action": "stop", "iso_country_code": "US",
                                    "keyword": "stop", "text": "Stop"}},
    "sub_resource": "mo_rcs",
}
MO_WHATSAPP_STOP_001 = {
    "reference_id": "0123456789ABCDEF0123456789ABCDEF",
    "content": {"end_user_action": {"keyword": "end", "action": "stop", "text": "end",
                                    "iso_country_code": "US"}},
    "phone_number": "11234567890",
    "status": {"code": 1500, "description": "Delivered to customer",
               "updated_on": "2023-12-05T13:33:01.000000Z"},
    "waba_phone_number": "11234567891",
}


def shape(value):
    """The nested key structure of a payload, with leaves replaced by their JSON type."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"
