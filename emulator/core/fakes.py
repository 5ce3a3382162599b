"""Realistic fake values (names, media URLs, file sizes, places) from Faker, seeded from the
emulator's one RNG so that the same seed gives the same values. Faker is imported on first use
to keep start-up fast."""

from __future__ import annotations

import hashlib
from typing import Any

from emulator.core.rng import SeededRandom

_MEDIA = {
    "image": ("image/jpeg", "jpg"),
    "video": ("video/mp4", "mp4"),
    "audio": ("audio/ogg", "ogg"),
    "document": ("application/pdf", "pdf"),
    "sticker": ("image/webp", "webp"),
}


class FakeData:
    def __init__(self, rng: SeededRandom) -> None:
        self._rng = rng
        self._faker: Any = None

    def _fake(self) -> Any:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker()
        # reseed from the emulator's sequence on every use: one seed drives everything
        self._faker.seed_instance(self._rng.randint(0, 2**32 - 1))
        return self._faker

    def media(self, kind: str, host: str = "media.example.com") -> dict[str, Any]:
        """A file of ``kind`` (image, video, audio, document, sticker) with name, type, URL,
        size and sha256."""
        fake = self._fake()
        mime_type, extension = _MEDIA.get(kind, ("application/octet-stream", "bin"))
        name = f"{fake.file_name(extension=extension).rsplit('.', 1)[0]}.{extension}"
        token = fake.sha1(raw_output=False)
        url = f"https://{host}/{kind}/{token}/{name}"
        return {
            "name": name,
            "mime_type": mime_type,
            "url": url,
            "size_bytes": fake.random_int(8_000, 4_000_000),
            "sha256": hashlib.sha256(url.encode()).hexdigest(),
        }

    def location(self) -> dict[str, Any]:
        fake = self._fake()
        latitude, longitude, place, _, _ = fake.location_on_land()
        return {"latitude": float(latitude), "longitude": float(longitude), "name": place,
                "address": fake.address().replace("\n", ", ")}

    def email(self) -> str:
        return self._fake().email()
