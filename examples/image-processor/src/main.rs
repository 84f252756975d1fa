//! image-processor: input artifact `input` (JPEG or PNG), parameter `effect` (desaturate, blur,
//! flip, rotate), optional artifact `watermark` drawn in the bottom-right corner; output artifact
//! `output` (PNG).
use image::{imageops, DynamicImage, ImageReader, Limits};
use std::path::Path;
use wasm_workflows_sdk::{run, Error};

/// Images larger than this in either dimension are refused before decoding.
const MAX_SIDE: u32 = 8192;
/// Decoders may allocate at most this much (a small file can claim a huge image).
const MAX_ALLOC: u64 = 512 << 20;
const BLUR_SIGMA: f32 = 3.0;

fn load(path: &Path, what: &str) -> Result<DynamicImage, Error> {
    let mut reader = ImageReader::open(path)
        .map_err(|e| Error(format!("{what}: cannot open: {e}")))?
        .with_guessed_format()
        .map_err(|e| Error(format!("{what}: {e}")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| {
        Error(format!(
            "{what}: not a JPEG or PNG image within {MAX_SIDE}x{MAX_SIDE}: {e}"
        ))
    })
}

fn apply(effect: &str, img: DynamicImage) -> Result<DynamicImage, Error> {
    Ok(match effect {
        "desaturate" | "grayscale" => DynamicImage::ImageLuma8(img.to_luma8()),
        "blur" => img.blur(BLUR_SIGMA),
        "flip" => img.flipv(),
        "rotate" => img.rotate90(),
        other => {
            return Err(Error(format!(
                "input parameter effect: unknown effect {other:?} (known: desaturate, blur, flip, rotate)"
            )))
        }
    })
}

/// Draws `mark` in the bottom-right corner, scaled down to at most a quarter of the image width.
fn watermark(img: DynamicImage, mark: DynamicImage) -> DynamicImage {
    let mut base = img.to_rgba8();
    let max_w = (base.width() / 4).max(1);
    let mark = if mark.width() > max_w {
        mark.resize(max_w, base.height(), imageops::FilterType::Triangle)
    } else {
        mark
    };
    let x = i64::from(base.width()) - i64::from(mark.width());
    let y = i64::from(base.height()) - i64::from(mark.height());
    imageops::overlay(&mut base, &mark.to_rgba8(), x.max(0), y.max(0));
    DynamicImage::ImageRgba8(base)
}

fn main() {
    run(|invocation, output| {
        let effect = invocation
            .parameter("effect")
            .unwrap_or_else(|| "desaturate".into());
        let input = load(
            &invocation.require_input_artifact("input")?,
            "input artifact input",
        )?;
        let mut result = apply(effect.trim(), input)?;
        if let Some(mark) = invocation.input_artifact("watermark") {
            result = watermark(result, load(&mark, "input artifact watermark")?);
        }
        let path = output.artifact("output")?;
        result
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(|e| Error(format!("cannot write {}: {e}", path.display())))?;
        output
            .parameter("size", format!("{}x{}", result.width(), result.height()))
            .message(format!(
                "{effect}: {}x{} PNG",
                result.width(),
                result.height()
            ));
        Ok(())
    })
}
