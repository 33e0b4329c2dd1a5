"""Holders' phone numbers, for SMS only: sealed with a KMS key (the holder id as encryption context),
one small item per holder in the contacts table. In the template only the apply function may seal and
write them and only the notify function may read and open them; the holders table, events, logs and
everything a checkpoint or partner sees keep the masked number only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthcode.lazy import resolve

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class KmsPhoneBook:
    def __init__(self, db: DynamoDBClient, table: str, kms: Any, key_id: str) -> None:
        self._db = db
        self._table = table
        self._kms_given = kms  # a client, or a Lazy one
        self._key = key_id

    def keep(self, holder_id: str, phone: str) -> None:
        sealed = resolve(self._kms_given).encrypt(
            KeyId=self._key, Plaintext=phone.encode(), EncryptionContext={"holder_id": holder_id}
        )["CiphertextBlob"]
        self._db.put_item(TableName=self._table, Item={"holder_id": {"S": holder_id}, "sealed_phone": {"B": sealed}})

    def phone_of(self, holder_id: str) -> str | None:
        item = self._db.get_item(TableName=self._table, Key={"holder_id": {"S": holder_id}}).get("Item")
        if not item:
            return None
        opened = resolve(self._kms_given).decrypt(
            KeyId=self._key, CiphertextBlob=item["sealed_phone"]["B"], EncryptionContext={"holder_id": holder_id}
        )
        return str(opened["Plaintext"].decode())


class SnsTexts:
    """SMS through Amazon SNS (transactional: a health instruction, not marketing)."""

    def __init__(self, sns: Any) -> None:
        self._sns_given = sns

    def send(self, phone: str, text: str) -> None:
        resolve(self._sns_given).publish(
            PhoneNumber=phone if phone.startswith("+") else f"+86{phone}",
            Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
