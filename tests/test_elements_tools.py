"""The image annotation tools with mouse and keyboard: shapes in image pixels, undo,
delete, label hotkeys, and inputImageProperties from the loaded image (320x240)."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest

from tests.element_pages import Frames, frames, wait_for

__all__ = ["frames"]
pytestmark = pytest.mark.browser
IMAGE = {"height": 240, "width": 320}


def open_tool(frames: Frames, tag: str, extra: str = "") -> tuple[Any, Any, dict[str, float]]:
    frame = frames.open(
        f"<crowd-form><{tag} name='r' src='/objects/b/i.png' labels=\"['car', 'tree']\" {extra}>"
        f"</{tag}></crowd-form>"
    )
    canvas = frame.locator(f"{tag} canvas.upper-canvas")
    wait_for(lambda: canvas.evaluate("c => c.width > 0"), "the image")
    box = canvas.bounding_box()
    assert box is not None
    return frame, canvas, box


def at(box: dict[str, float], x: float, y: float) -> tuple[float, float]:
    """Page coordinates of image pixel (x, y) on a canvas showing the 320x240 image."""
    return box["x"] + x * box["width"] / 320, box["y"] + y * box["height"] / 240


def drag(frame: Any, box: dict[str, float], a: tuple[int, int], b: tuple[int, int]) -> None:
    mouse = frame.page.mouse
    mouse.move(*at(box, *a))
    mouse.down()
    mouse.move(*at(box, *b), steps=5)
    mouse.up()


def submit(frames: Frames, frame: Any) -> dict[str, Any]:
    frame.locator("crowd-form button[type=submit]").click()
    answer: dict[str, Any] = frames.answer(frame)["r"]
    return answer


def close(a: int, b: int) -> bool:
    return abs(a - b) <= 2


def test_bounding_box_draw_hotkey_delete_undo(frames: Frames) -> None:
    frame, canvas, box = open_tool(frames, "crowd-bounding-box")
    drag(frame, box, (40, 30), (140, 130))
    canvas.press("2")
    drag(frame, box, (200, 20), (300, 100))
    canvas.press("Delete")  # removes the selected (last drawn) box
    canvas.press("Control+z")  # brings it back
    drag(frame, box, (10, 200), (60, 230))
    canvas.press("Control+z")  # takes the third away
    answer = submit(frames, frame)
    assert answer["inputImageProperties"] == IMAGE
    boxes = answer["boundingBoxes"]
    assert [b["label"] for b in boxes] == ["car", "tree"]
    first = boxes[0]
    assert set(first) == {"label", "left", "top", "width", "height"}
    assert close(first["left"], 40) and close(first["top"], 30)
    assert close(first["width"], 100) and close(first["height"], 100)


def test_bounding_box_initial_value_modified(frames: Frames) -> None:
    frame, _, _ = open_tool(
        frames,
        "crowd-bounding-box",
        "initial-value=\"[{label: 'car', left: 1, top: 2, width: 30, height: 40}]\"",
    )
    answer = submit(frames, frame)
    assert answer["boundingBoxes"] == [
        {"label": "car", "left": 1, "top": 2, "width": 30, "height": 40}
    ]
    assert answer["initialValueModified"] is False


def test_keypoints_with_the_keyboard_only(frames: Frames) -> None:
    frame, canvas, _ = open_tool(frames, "crowd-keypoint")
    canvas.focus()
    canvas.press("2")
    for _ in range(3):
        canvas.press("ArrowRight")
    canvas.press("ArrowDown")
    canvas.press("Space")
    answer = submit(frames, frame)
    assert answer["inputImageProperties"] == IMAGE
    (point,) = answer["keypoints"]
    assert point["label"] == "tree"
    # The keyboard cursor starts at (20, 20) on screen and moves 10 px a step.
    scale = 320 / canvas.evaluate("c => c.width")
    assert close(point["x"], round(50 * scale)) and close(point["y"], round(30 * scale))


@pytest.mark.parametrize(
    ("tag", "clicks", "finish", "key", "count"),
    [
        ("crowd-polygon", [(20, 20), (120, 20), (70, 100), (20, 20)], None, "polygons", 3),
        ("crowd-polyline", [(20, 20), (120, 20), (70, 100)], "Enter", "polylines", 3),
        ("crowd-line", [(20, 20), (200, 150)], None, "lines", 2),
    ],
)
def test_vertex_tools(
    frames: Frames,
    tag: str,
    clicks: list[tuple[int, int]],
    finish: str | None,
    key: str,
    count: int,
) -> None:
    frame, canvas, box = open_tool(frames, tag)
    for x, y in clicks:
        frame.page.mouse.click(*at(box, x, y))
    if finish:
        canvas.press(finish)
    answer = submit(frames, frame)
    (shape,) = answer[key]
    assert shape["label"] == "car"
    assert len(shape["vertices"]) == count
    for vertex, (x, y) in zip(shape["vertices"], clicks, strict=False):
        assert close(vertex["x"], x) and close(vertex["y"], y)
    assert answer["inputImageProperties"] == IMAGE


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGBA pixels) of an 8-bit RGBA PNG without filters beyond 0-4."""
    pos, idat = 8, b""
    width = height = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            assert body[8:10] == b"\x08\x06", "expected 8-bit RGBA"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b = prev[i]
            c = prev[i - 4] if i >= 4 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = bytes(line)
    return width, height, rows


def pixel(rows: list[bytes], x: int, y: int) -> tuple[int, ...]:
    return tuple(rows[y][x * 4 : x * 4 + 4])


@pytest.mark.parametrize("tag", ["crowd-semantic-segmentation", "crowd-instance-segmentation"])
def test_segmentation_paints_a_label_mask(frames: Frames, tag: str) -> None:
    frame, canvas, box = open_tool(frames, tag)
    drag(frame, box, (60, 60), (160, 60))
    canvas.press("2")
    drag(frame, box, (60, 180), (160, 180))
    drag(frame, box, (250, 20), (300, 20))
    canvas.press("Control+z")  # the last stroke goes
    answer = submit(frames, frame)
    assert answer["inputImageProperties"] == IMAGE
    width, height, rows = png_pixels(base64.b64decode(answer["labeledImage"]["pngImageData"]))
    assert (width, height) == (320, 240)
    assert pixel(rows, 280, 20)[3] == 0  # undone
    assert pixel(rows, 5, 5)[3] == 0  # never painted
    first, second = pixel(rows, 110, 60), pixel(rows, 110, 180)
    assert first[3] == 255 and second[3] == 255 and first != second

    def hexa(p: tuple[int, ...]) -> str:
        return "#" + "".join(f"{v:02x}" for v in p[:3])

    if tag == "crowd-semantic-segmentation":
        assert answer["labelMappings"]["car"]["color"] == hexa(first)
        assert answer["labelMappings"]["tree"]["color"] == hexa(second)
    else:
        assert answer["instances"] == [
            {"color": hexa(first), "label": "car"},
            {"color": hexa(second), "label": "tree"},
        ]


def test_zoomed_boxes_stay_in_image_pixels(frames: Frames) -> None:
    frame, canvas, _ = open_tool(frames, "crowd-bounding-box")
    canvas.focus()
    canvas.press("+")
    canvas.press("+")
    wait_for(lambda: canvas.evaluate("c => c.width") > 330, "the zoomed canvas")
    box = canvas.bounding_box()
    assert box is not None
    drag(frame, box, (20, 20), (60, 50))
    answer = submit(frames, frame)
    (shape,) = answer["boundingBoxes"]
    assert close(shape["left"], 20) and close(shape["top"], 20)
    assert close(shape["width"], 40) and close(shape["height"], 30)
