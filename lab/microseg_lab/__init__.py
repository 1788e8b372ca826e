"""microseg_lab: stateful HTTPS emulators of the product APIs managed by microseg.segmentation.

The package is started by ``lab/labctl.py``; ``common`` holds everything that does not depend on
a product (TLS, HTTP server, counters, fault injection, persistence) and each product lives in its
own sub-package (``prisma`` today) and is served on its own port.
"""

__version__ = "1.0.0"
