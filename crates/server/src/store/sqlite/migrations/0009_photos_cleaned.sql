-- Photos kept by releases that looked only for EXIF and XMP may carry other
-- metadata (IPTC, comments, bytes after the image's end). Each is rebuilt
-- once from its picture's own parts, at the first start of a release that
-- cleans photos (`clean_kept_photos`); photos kept since are clean when
-- stored.
ALTER TABLE photos ADD COLUMN cleaned INTEGER NOT NULL DEFAULT 0;
