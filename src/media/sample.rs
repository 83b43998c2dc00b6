//! Made-up produce photos, for `nongsan seed --demo` listings and for the photo benchmark.
//!
//! They are built to cost what real photos cost: a soft background gradient, a few shaded round "fruits"
//! with hard edges, and sensor-like noise everywhere, so the JPEG is neither trivially compressible (a
//! flat colour would be ~100× smaller and decode far faster than a phone photo) nor pure noise.
//! Deterministic for a given seed, on every platform and version, so seeded data and benchmarks repeat.

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;

/// Largest side generated: beyond it `process_photo` refuses the image anyway.
const MAX_SIDE: u32 = super::MAX_SIDE;

/// Produce colours: tomato, mandarin, lime, banana, dragon fruit, eggplant, chilli, leaf green.
const PRODUCE: [[f32; 3]; 8] = [
    [214.0, 48.0, 36.0],
    [240.0, 140.0, 30.0],
    [120.0, 180.0, 50.0],
    [245.0, 215.0, 70.0],
    [220.0, 40.0, 120.0],
    [90.0, 40.0, 110.0],
    [200.0, 20.0, 20.0],
    [50.0, 120.0, 40.0],
];

/// A JPEG (quality 90, like a phone's camera app) of `width × height` pixels, each side clamped to
/// `1..=12000`.
pub fn demo_photo(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let (width, height) = (width.clamp(1, MAX_SIDE), height.clamp(1, MAX_SIDE));
    let image = demo_image(width, height, seed);
    let mut out = Vec::new();
    // Encoding an RGB image of valid size into memory cannot fail; should it ever, the caller gets no bytes
    // and `process_photo` refuses them, which seeding reports.
    match JpegEncoder::new_with_quality(&mut out, 90).encode_image(&image) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

fn demo_image(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = SplitMix64(seed);
    let (w, h) = (width as f32, height as f32);

    // Background: a basket or table lit from one corner, colour picked by the seed.
    let top = [150.0 + rng.unit() * 80.0, 120.0 + rng.unit() * 60.0, 80.0 + rng.unit() * 50.0];
    let bottom = [top[0] * 0.55, top[1] * 0.5, top[2] * 0.45];
    let mut image = RgbImage::new(width, height);
    for (y, row) in image.as_mut().chunks_exact_mut(width as usize * 3).enumerate() {
        let t = y as f32 / h;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            // A gentle diagonal light plus a weave-like ripple, so the background has texture to encode.
            let light = 1.0 - 0.25 * (x as f32 / w) + 0.04 * ((x as f32 * 0.15).sin() * (y as f32 * 0.11).cos());
            for c in 0..3 {
                px[c] = to_u8((top[c] * (1.0 - t) + bottom[c] * t) * light);
            }
        }
    }

    // Fruits: shaded discs with a highlight, each drawn over its bounding box only.
    let count = 5 + (rng.next() % 8) as usize;
    let short = w.min(h);
    for _ in 0..count {
        let colour = PRODUCE[(rng.next() % PRODUCE.len() as u64) as usize];
        let radius = short * (0.08 + rng.unit() * 0.14);
        let (cx, cy) = (rng.unit() * w, rng.unit() * h);
        let (hx, hy) = (cx - radius * 0.35, cy - radius * 0.35);
        let x0 = (cx - radius).max(0.0) as u32;
        let x1 = ((cx + radius).ceil() as u32).min(width);
        let y0 = (cy - radius).max(0.0) as u32;
        let y1 = ((cy + radius).ceil() as u32).min(height);
        for y in y0..y1 {
            for x in x0..x1 {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let d2 = (dx * dx + dy * dy) / (radius * radius);
                if d2 > 1.0 {
                    continue;
                }
                let (sx, sy) = ((x as f32 - hx) / radius, (y as f32 - hy) / radius);
                let highlight = (1.0 - (sx * sx + sy * sy) * 4.0).max(0.0) * 90.0;
                let shade = 1.0 - 0.45 * d2;
                for (out, c) in image.get_pixel_mut(x, y).0.iter_mut().zip(colour) {
                    *out = to_u8(c * shade + highlight);
                }
            }
        }
    }

    // Sensor noise: ±6 levels per channel, what a small phone sensor leaves in after its own denoising.
    for value in image.as_mut() {
        let noise = (rng.next() % 13) as i16 - 6;
        *value = (i16::from(*value) + noise).clamp(0, 255) as u8;
    }
    image
}

fn to_u8(v: f32) -> u8 {
    v.clamp(0.0, 255.0) as u8
}

/// A tiny, well-known generator whose output is fixed forever (unlike `rand`'s `StdRng`).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Latitude 21°1'30.25" N (Hà Nội), as the three EXIF rationals a phone writes.
pub const GPS_LATITUDE: [u32; 6] = [21, 1, 1, 1, 3025, 100];

/// An EXIF APP1 segment as a phone writes it: little-endian TIFF, IFD0 with Orientation and a GPSInfo
/// pointer, and a GPS IFD with GPSLatitudeRef = "N" and GPSLatitude.
fn exif_app1(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value);
    };
    tiff.extend(b"II\x2A\x00");
    tiff.extend(8u32.to_le_bytes()); // IFD0 right after the header
    // IFD0 at 8: 2 entries (2 + 2·12 + 4 = 30 bytes), so the GPS IFD starts at 38.
    tiff.extend(2u16.to_le_bytes());
    let [o0, o1] = orientation.to_le_bytes();
    entry(&mut tiff, 0x0112, 3, 1, [o0, o1, 0, 0]); // Orientation, SHORT
    entry(&mut tiff, 0x8825, 4, 1, 38u32.to_le_bytes()); // GPSInfo IFD pointer, LONG
    tiff.extend(0u32.to_le_bytes()); // no IFD1
    // GPS IFD at 38: 2 entries (30 bytes), its latitude rationals at 68.
    tiff.extend(2u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0"); // GPSLatitudeRef, ASCII "N"
    entry(&mut tiff, 0x0002, 5, 3, 68u32.to_le_bytes()); // GPSLatitude, 3 RATIONALs
    tiff.extend(0u32.to_le_bytes());
    for v in GPS_LATITUDE {
        tiff.extend(v.to_le_bytes());
    }

    let mut app1 = vec![0xFF, 0xE1];
    let len = u16::try_from(2 + 6 + tiff.len()).unwrap_or(u16::MAX);
    app1.extend(len.to_be_bytes());
    app1.extend(b"Exif\0\0");
    app1.extend(tiff);
    app1
}

/// `jpeg` as a phone stores it: an EXIF segment (this orientation, and GPS coordinates) right after SOI.
/// For tests and benchmarks of the pipeline, which must undo the rotation and drop the metadata.
pub fn with_phone_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend(exif_app1(orientation));
    out.extend(&jpeg[2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_photo_is_a_deterministic_jpeg_of_the_asked_size() {
        let a = demo_photo(320, 200, 7);
        assert_eq!(a, demo_photo(320, 200, 7));
        assert_ne!(a, demo_photo(320, 200, 8));
        let decoded = image::load_from_memory_with_format(&a, image::ImageFormat::Jpeg).expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (320, 200));
        // Not trivially compressible (a flat 320×200 JPEG is ~2 KB), not noise either (raw is 192 KB).
        assert!(a.len() > 8_000 && a.len() < 100_000, "{} bytes", a.len());
    }

    #[test]
    fn demo_photo_clamps_silly_sizes() {
        let tiny = demo_photo(0, 0, 1);
        let decoded = image::load_from_memory(&tiny).expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (1, 1));
    }
}
