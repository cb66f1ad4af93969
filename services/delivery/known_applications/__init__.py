"""Read copy of intake's accepted applications, with approval's certificate for each: who applied,
how the certificate travels and its number (kept from ``intake.application.accepted`` and
``approval.certificate.issued``). Only the handlers in ``services/delivery/consumers.py`` write
it, through ``service.py``, which then books the certificate's shipment or opens its pickup."""
