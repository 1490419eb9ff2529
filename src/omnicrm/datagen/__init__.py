"""Synthetic multi-channel retailer: realistic source files with a known ground truth.

:func:`generate` simulates customers (BG/NBD purchase and dropout process, channel mix,
staples on personal cycles, complementary products, festivals and promotions, returns,
identities across systems, behaviour events, NPS/CSAT feedback) and writes the source files
in deliberately varied layouts, with their column mappings, a ``truth.csv`` and a
``manifest.json`` listing the files in load order. See ``docs/datagen.md``.

Examples
--------
>>> import tempfile
>>> from omnicrm.datagen import generate
>>> out = generate(tempfile.mkdtemp(), customers=100, days=30, seed=1)
>>> out.manifest_path.name, out.truth_path.name
('manifest.json', 'truth.csv')
"""

from omnicrm.datagen.generate import DataFile, GeneratedRetailer, generate
from omnicrm.datagen.params import DEFAULT_BEHAVIOUR, Behaviour

__all__ = ["DEFAULT_BEHAVIOUR", "Behaviour", "DataFile", "GeneratedRetailer", "generate"]
