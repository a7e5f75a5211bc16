"""A few real photographs for filters and edge detection, from scikit-image.

They ship inside the ``scikit-image`` wheel, so they load with no network. Licences
(from scikit-image's documentation): ``camera`` CC0 (Lav Varshney); ``astronaut``
public domain (NASA); ``coins`` Brooklyn Museum, no known copyright restrictions;
``cat`` (skimage's ``chelsea``) CC0 (Stefan van der Walt); ``coffee`` CC0 (Rachel
Michetti); ``brick``, ``grass`` and ``gravel`` CC0 (CC0Textures); ``text`` public
domain.
"""

from __future__ import annotations

import numpy as np

# book name -> scikit-image function name
PHOTOS = {
    "camera": "camera",
    "astronaut": "astronaut",
    "coins": "coins",
    "cat": "chelsea",
    "coffee": "coffee",
    "brick": "brick",
    "grass": "grass",
    "gravel": "gravel",
    "text": "text",
}


def load_photo(name: str = "camera", gray: bool = True) -> np.ndarray:
    """A photograph as float32 in [0, 1]: (H, W) when ``gray``, else (H, W, 3).

    Colour images are turned grey with the ITU-R 601 luma weights
    (0.299 R + 0.587 G + 0.114 B); grey images asked for in colour are repeated
    over three channels.
    """
    if name not in PHOTOS:
        raise ValueError(
            f"load_photo: name must be one of {sorted(PHOTOS)}, got {name!r}"
        )
    from skimage import data as skdata  # imported here: scikit-image is optional

    image = np.asarray(getattr(skdata, PHOTOS[name])(), dtype=np.float32) / 255.0
    if image.ndim == 3:
        image = image[..., :3]  # drop an alpha channel if there is one
        if gray:
            image = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    elif not gray:
        image = np.repeat(image[..., None], 3, axis=-1)
    return image
