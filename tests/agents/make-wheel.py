"""Write a minimal pure-Python wheel (shdemo 1.0) into the directory argv[1].

No build tools needed: a wheel is a zip with a dist-info directory, and pip
checks the RECORD hashes, so they are computed here."""
import base64, hashlib, os, sys, zipfile

files = {
    "shdemo/__init__.py": "VALUE = 'wheel-ok'\n",
    "shdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: shdemo\nVersion: 1.0\n",
    "shdemo-1.0.dist-info/WHEEL":
        "Wheel-Version: 1.0\nGenerator: safehouse-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(os.path.join(sys.argv[1], "shdemo-1.0-py3-none-any.whl"), "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append("%s,sha256=%s,%d" % (name, digest.decode(), len(text)))
    record.append("shdemo-1.0.dist-info/RECORD,,")
    z.writestr("shdemo-1.0.dist-info/RECORD", "\n".join(record) + "\n")
