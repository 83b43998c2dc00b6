use std::time::{Duration, Instant};

use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use proptest::prelude::*;

use super::*;
use crate::error::{AppError, Kind};
use crate::media::sample::{GPS_LATITUDE, demo_photo, with_phone_exif};

const RED: Rgb<u8> = Rgb([220, 30, 30]);
const BLUE: Rgb<u8> = Rgb([30, 30, 220]);

/// Left half red, right half blue: after a rotation we can tell which way it went.
fn two_halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| if x < width / 2 { RED } else { BLUE })
}

fn jpeg_of(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 95).encode_image(image).expect("encode jpeg");
    out
}

fn png_of(bytes: &[u8], width: u32, height: u32, color: ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(bytes, width, height, color).expect("encode png");
    out
}

fn decode(jpeg: &[u8]) -> RgbImage {
    image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).expect("output decodes").into_rgb8()
}

fn close(a: Rgb<u8>, b: Rgb<u8>) -> bool {
    a.0.iter().zip(b.0).all(|(&x, y)| x.abs_diff(y) <= 24)
}

/// The marker segments of a JPEG up to its first scan: what metadata it carries.
fn header_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    markers
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn gps_bytes() -> Vec<u8> {
    GPS_LATITUDE.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn assert_clean_baseline_jpeg(jpeg: &[u8]) {
    let markers = header_markers(jpeg);
    assert_eq!(markers.first(), Some(&0xE0), "starts with JFIF APP0: {markers:02X?}");
    assert!(markers.contains(&0xC0), "baseline SOF0: {markers:02X?}");
    assert!(!markers.contains(&0xC2), "not progressive: {markers:02X?}");
    // No APP1 (EXIF/XMP), APP2 (ICC, MPF), APP13 (IPTC), COM.
    assert!(markers.iter().all(|m| !matches!(m, 0xE1..=0xEF | 0xFE)), "no metadata: {markers:02X?}");
    assert!(!contains(jpeg, b"Exif"));
    assert!(!contains(jpeg, b"http://ns.adobe.com/xap"));
    assert!(!contains(jpeg, b"ICC_PROFILE"));
}

fn error_of(bytes: &[u8]) -> PhotoError {
    process_photo(bytes).expect_err("refused")
}

#[test]
fn exif_orientation_6_comes_out_upright_and_gps_is_gone() {
    let source = with_phone_exif(&jpeg_of(&two_halves(40, 20)), 6);
    assert!(contains(&source, b"Exif\0\0") && contains(&source, &gps_bytes()));

    let photo = process_photo(&source).expect("processed");
    assert_eq!((photo.width, photo.height), (20, 40));
    assert_eq!((photo.thumb_width, photo.thumb_height), (20, 40));

    // Orientation 6: the stored image is turned 90° clockwise for display, so its left (red) half is now
    // on top.
    let display = decode(&photo.display);
    assert_eq!(display.dimensions(), (20, 40));
    assert!(close(*display.get_pixel(10, 5), RED), "top is red: {:?}", display.get_pixel(10, 5));
    assert!(close(*display.get_pixel(10, 34), BLUE), "bottom is blue: {:?}", display.get_pixel(10, 34));

    for output in [&photo.display, &photo.thumb] {
        assert_clean_baseline_jpeg(output);
        assert!(!contains(output, &gps_bytes()), "GPS latitude bytes must be gone");
    }
}

#[test]
fn orientation_8_and_3_and_a_large_rotated_photo() {
    // 8: turned 90° counter-clockwise for display, so the left (red) half ends at the bottom.
    let photo = process_photo(&with_phone_exif(&jpeg_of(&two_halves(40, 20)), 8)).expect("processed");
    let display = decode(&photo.display);
    assert_eq!(display.dimensions(), (20, 40));
    assert!(close(*display.get_pixel(10, 34), RED));

    // 3: upside down, so red moves to the right.
    let photo = process_photo(&with_phone_exif(&jpeg_of(&two_halves(40, 20)), 3)).expect("processed");
    let display = decode(&photo.display);
    assert_eq!(display.dimensions(), (40, 20));
    assert!(close(*display.get_pixel(35, 10), RED));

    // A landscape-stored portrait photo: shrunk, then turned.
    let photo = process_photo(&with_phone_exif(&jpeg_of(&two_halves(2000, 1000)), 6)).expect("processed");
    assert_eq!((photo.width, photo.height), (640, 1280));
    assert_eq!((photo.thumb_width, photo.thumb_height), (160, 320));
    let display = decode(&photo.display);
    assert!(close(*display.get_pixel(320, 100), RED) && close(*display.get_pixel(320, 1180), BLUE));
}

#[test]
fn png_with_alpha_is_flattened_onto_white() {
    // Left half transparent, right half opaque green: a cut-out product shot.
    let image = RgbaImage::from_fn(64, 32, |x, _| if x < 32 { Rgba([0, 0, 0, 0]) } else { Rgba([20, 160, 40, 255]) });
    let png = png_of(image.as_raw(), 64, 32, ExtendedColorType::Rgba8);

    let photo = process_photo(&png).expect("processed");
    assert_eq!((photo.width, photo.height), (64, 32));
    let display = decode(&photo.display);
    assert!(close(*display.get_pixel(8, 16), Rgb([255, 255, 255])), "{:?}", display.get_pixel(8, 16));
    assert!(close(*display.get_pixel(56, 16), Rgb([20, 160, 40])), "{:?}", display.get_pixel(56, 16));
    assert_clean_baseline_jpeg(&photo.display);
}

#[test]
fn grey_and_16_bit_pngs_work() {
    let grey = png_of(&[128; 30 * 20], 30, 20, ExtendedColorType::L8);
    assert_eq!(process_photo(&grey).map(|p| (p.width, p.height)), Ok((30, 20)));

    let rgb16: Vec<u8> = (0..30 * 20 * 3).flat_map(|i: u32| ((i * 97) as u16).to_be_bytes()).collect();
    let deep = png_of(&rgb16, 30, 20, ExtendedColorType::Rgb16);
    assert_eq!(process_photo(&deep).map(|p| (p.width, p.height)), Ok((30, 20)));
}

#[test]
fn webp_works() {
    let image = two_halves(300, 200);
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp)
        .write_image(image.as_raw(), 300, 200, ExtendedColorType::Rgb8)
        .expect("encode webp");

    let photo = process_photo(&webp).expect("processed");
    assert_eq!((photo.width, photo.height), (300, 200));
    assert_eq!((photo.thumb_width, photo.thumb_height), (300, 200));
    let display = decode(&photo.display);
    assert!(close(*display.get_pixel(10, 100), RED) && close(*display.get_pixel(290, 100), BLUE));
}

#[test]
fn tall_and_wide_photos_fit_their_long_side() {
    let tall = process_photo(&demo_photo(1500, 4000, 1)).expect("processed");
    assert_eq!((tall.width, tall.height), (480, 1280));
    assert_eq!((tall.thumb_width, tall.thumb_height), (120, 320));

    let wide = process_photo(&demo_photo(3000, 900, 2)).expect("processed");
    assert_eq!((wide.width, wide.height), (1280, 384));
    assert_eq!((wide.thumb_width, wide.thumb_height), (320, 96));

    // A thin strip keeps at least one pixel.
    let strip = process_photo(&jpeg_of(&RgbImage::from_pixel(4000, 2, RED))).expect("processed");
    assert_eq!((strip.width, strip.height), (1280, 1));
    assert_eq!((strip.thumb_width, strip.thumb_height), (320, 1));
}

#[test]
fn tiny_photos_are_never_enlarged() {
    let photo = process_photo(&demo_photo(10, 10, 3)).expect("processed");
    assert_eq!((photo.width, photo.height, photo.thumb_width, photo.thumb_height), (10, 10, 10, 10));
    assert_eq!(decode(&photo.display).dimensions(), (10, 10));
    assert_eq!(decode(&photo.thumb).dimensions(), (10, 10));
}

#[test]
fn a_phone_sized_photo_makes_small_files() {
    let photo = process_photo(&demo_photo(1600, 1200, 4)).expect("processed");
    assert_eq!((photo.width, photo.height, photo.thumb_width, photo.thumb_height), (1280, 960, 320, 240));
    assert!(photo.thumb.len() < 60_000, "thumbnail is {} bytes", photo.thumb.len());
    assert!(photo.display.len() < 600_000, "display is {} bytes", photo.display.len());
    assert_clean_baseline_jpeg(&photo.display);
    assert_clean_baseline_jpeg(&photo.thumb);
}

/// A PNG whose IHDR is patched to claim `width × height`, with the CRC fixed so only the size is wrong.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = png_of(&[1, 2, 3], 1, 1, ExtendedColorType::Rgb8);
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    // 20,000 × 20,000 RGB would be 1.2 GB of pixels from a 70-byte file.
    let started = Instant::now();
    let error = error_of(&png_claiming(20_000, 20_000));
    assert_eq!((error.code, error.kind), ("photo_too_many_pixels", Kind::Unprocessable));
    assert!(error.message.en.contains("20000×20000"), "{}", error.message.en);
    assert!(error.message.vi.contains("20000×20000"), "{}", error.message.vi);
    assert!(started.elapsed() < Duration::from_millis(500), "took {:?}", started.elapsed());

    // Under the side limit but over 25 megapixels.
    assert_eq!(error_of(&png_claiming(6_000, 5_000)).code, "photo_too_many_pixels");
    // A thin panorama under 25 megapixels but with a side over 12,000.
    assert_eq!(error_of(&png_claiming(20_000, 100)).code, "photo_too_many_pixels");
    // The largest accepted size gets past the check and fails only because there is no pixel data.
    assert_eq!(error_of(&png_claiming(5_000, 5_000)).code, "photo_corrupt");

    // A JPEG whose frame header claims 20,000 × 20,000 over 16 × 16 pixels of data.
    let mut jpeg = demo_photo(16, 16, 8);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("baseline frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&20_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&20_000u16.to_be_bytes());
    let started = Instant::now();
    assert_eq!(error_of(&jpeg).code, "photo_too_many_pixels");
    assert!(started.elapsed() < Duration::from_millis(500), "took {:?}", started.elapsed());
}

#[test]
fn non_images_are_unsupported() {
    for bytes in [
        &b"Xin chao, day la mot tep van ban.\n"[..],
        b"GIF89a\x01\x00\x01\x00",
        b"BM\x3a\x00\x00\x00",
        b"RIFF\x10\x00\x00\x00WAVEfmt ",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\xFF\xD8",
    ] {
        let error = error_of(bytes);
        assert_eq!((error.code, error.kind), ("photo_unsupported_format", Kind::UnsupportedMediaType));
        assert!(error.message.en.contains("JPEG, PNG and WebP"), "{}", error.message.en);
        assert!(error.message.vi.contains("JPEG, PNG hoặc WebP"), "{}", error.message.vi);
    }
}

#[test]
fn truncated_photos_are_corrupt() {
    let jpeg = demo_photo(400, 300, 5);
    let error = error_of(&jpeg[..jpeg.len() / 2]);
    assert_eq!((error.code, error.kind), ("photo_corrupt", Kind::Unprocessable));
    // Cut inside the headers, too.
    assert_eq!(error_of(&jpeg[..40]).code, "photo_corrupt");
    // Only the final EOI missing is still a cut-off upload.
    assert_eq!(error_of(&jpeg[..jpeg.len() - 2]).code, "photo_corrupt");
    // Bytes after the end (phones append trailers) are fine.
    let mut trailer = jpeg.clone();
    trailer.extend(b"SEFT trailer data");
    assert!(process_photo(&trailer).is_ok());

    let png = png_of(two_halves(200, 100).as_raw(), 200, 100, ExtendedColorType::Rgb8);
    assert_eq!(error_of(&png[..png.len() / 2]).code, "photo_corrupt");
}

#[test]
fn oversized_uploads_are_refused_before_anything_else() {
    let mut bytes = demo_photo(16, 16, 6);
    bytes.resize(16 * 1024 * 1024, 0);
    let error = error_of(&bytes);
    assert_eq!((error.code, error.kind), ("photo_too_large", Kind::PayloadTooLarge));
    assert!(error.message.en.contains("(16 MB): at most 15 MB"), "{}", error.message.en);

    let error = error_of(b"");
    assert_eq!(error.code, "photo_empty");
}

#[test]
fn photo_errors_become_app_errors_with_their_code_and_status() {
    let error = AppError::from(error_of(&png_claiming(20_000, 20_000)));
    assert_eq!(error.code, "photo_too_many_pixels");
    assert_eq!(error.kind.status().as_u16(), 422);
    let error = AppError::from(error_of(&vec![0xFF; MAX_UPLOAD_BYTES + 1]));
    assert_eq!(error.kind.status().as_u16(), 413);
    let error = AppError::from(error_of(b"plain text"));
    assert_eq!(error.kind.status().as_u16(), 415);
    let jpeg = demo_photo(64, 64, 7);
    let error = AppError::from(error_of(&jpeg[..jpeg.len() / 2]));
    assert_eq!((error.code, error.kind.status().as_u16()), ("photo_corrupt", 422));
    assert!(error.source_error().is_some(), "the decoder's reason is kept for the logs");
}

#[test]
fn fit_within_keeps_the_aspect_ratio() {
    assert_eq!(fit_within(4000, 3000, 1280), (1280, 960));
    assert_eq!(fit_within(3000, 4000, 1280), (960, 1280));
    assert_eq!(fit_within(1280, 1280, 1280), (1280, 1280));
    assert_eq!(fit_within(1281, 2, 1280), (1280, 2));
    assert_eq!(fit_within(12_000, 1, 320), (320, 1));
    assert_eq!(fit_within(5, 7, 1280), (5, 7));
}

fn small_jpeg() -> Vec<u8> {
    demo_photo(48, 32, 9)
}

fn small_png() -> Vec<u8> {
    let image = RgbaImage::from_fn(24, 16, |x, y| Rgba([(x * 10) as u8, (y * 15) as u8, 90, (x * y) as u8]));
    png_of(image.as_raw(), 24, 16, ExtendedColorType::Rgba8)
}

fn small_webp() -> Vec<u8> {
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp)
        .write_image(two_halves(24, 16).as_raw(), 24, 16, ExtendedColorType::Rgb8)
        .expect("encode webp");
    webp
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(at, value) in edits {
        let len = bytes.len();
        bytes[at % len] = value;
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (bytes.len() + 1));
    }
    bytes
}

/// Whatever comes in, the answer is a photo or a refusal with one of our codes, never a panic.
fn assert_handled(bytes: &[u8]) {
    match process_photo(bytes) {
        Ok(photo) => {
            assert!(photo.width >= 1 && photo.height >= 1 && photo.width.max(photo.height) <= DISPLAY_LONG_SIDE);
            assert!(!photo.display.is_empty() && !photo.thumb.is_empty());
        }
        Err(e) => assert!(
            matches!(e.code, "photo_empty" | "photo_unsupported_format" | "photo_corrupt" | "photo_too_many_pixels"),
            "{e:?}"
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        assert_handled(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_magic_number_never_panic(
        magic in 0usize..3,
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut bytes = match magic {
            0 => b"\xFF\xD8\xFF\xE0".to_vec(),
            1 => b"\x89PNG\r\n\x1a\n".to_vec(),
            _ => b"RIFF\x00\x10\x00\x00WEBPVP8 ".to_vec(),
        };
        bytes.extend(tail);
        assert_handled(&bytes);
    }

    #[test]
    fn mutated_photos_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..12),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let original = match which {
            0 => small_jpeg(),
            1 => small_png(),
            _ => small_webp(),
        };
        assert_handled(&mutate(original, &edits, cut));
    }
}
