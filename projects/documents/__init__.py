"""Archive-grade documents (issue 13): the printed documents as PDF/A-3b records with their
data attached as XML, and a verification code (QR) on every printed copy.

kinds.py         what each document shows: its template, its context (the print page's own
                 context builder) and its data (the XML attachment and the verified snapshot)
verification.py  issued versions, keyed tokens, the QR
pdf.py           the PDF/A-3b rendering (WeasyPrint) and its attachments
(the pages, PDF downloads and public /verify/<token>/, are in projects/views/documents.py)
"""
