/* handloop's crowd HTML elements: web components with the tags, attributes and answer
   shapes of Amazon SageMaker Ground Truth / Augmented AI worker templates.
   Native ES modules, no build step, no network, no storage. The task frame loads this entry
   as a module (it serves AWS's crowd-html-elements.js and -v2.js); the elements live in
   ./elements/, one module per concept. */
import { announceWhenReady } from "./elements/base.js";
import { CrowdClassifier, CrowdClassifierMultiSelect, CrowdImageClassifier, CrowdImageClassifierMultiSelect,
  CrowdRekognitionDetectModerationLabels } from "./elements/classifiers.js";
import { CrowdForm, listenToPage } from "./elements/form.js";
import { CrowdBoundingBox, CrowdKeypoint, CrowdLine, CrowdPolygon, CrowdPolyline } from "./elements/image.js";
import { CrowdCheckbox, CrowdInput, CrowdRadioButton, CrowdRadioGroup, CrowdSlider, CrowdSliderLabel, CrowdTextArea,
  CrowdToggleButton } from "./elements/inputs.js";
import { lenient, parseLiteral } from "./elements/literal.js";
import { HlComparisonChoice, HlComparisonLikert, HlComparisonRank } from "./elements/comparisons.js";
import { HlConversation } from "./elements/preference.js";
import { HlLikert, HlResponseEdit, HlThumbs } from "./elements/ratings.js";
import { CrowdInstanceSegmentation, CrowdSemanticSegmentation } from "./elements/segmentation.js";
import { CrowdEntityAnnotation, CrowdQuestionAnswerGeneration, CrowdTextractAnalyzeDocument,
  CrowdTextRanking } from "./elements/text.js";
import { CrowdAlert, CrowdBadge, CrowdButton, CrowdCard, CrowdFab, CrowdIconButton, CrowdInstructions, CrowdModal,
  CrowdTab, CrowdTabs, CrowdToast } from "./elements/ui.js";

const ELEMENTS = {
  "crowd-form": CrowdForm, "crowd-button": CrowdButton, "crowd-icon-button": CrowdIconButton, "crowd-fab": CrowdFab,
  "crowd-alert": CrowdAlert, "crowd-badge": CrowdBadge, "crowd-card": CrowdCard, "crowd-modal": CrowdModal,
  "crowd-tabs": CrowdTabs, "crowd-tab": CrowdTab, "crowd-toast": CrowdToast, "crowd-instructions": CrowdInstructions,
  "crowd-input": CrowdInput, "crowd-text-area": CrowdTextArea, "crowd-checkbox": CrowdCheckbox,
  "crowd-radio-group": CrowdRadioGroup, "crowd-radio-button": CrowdRadioButton, "crowd-slider": CrowdSlider,
  "crowd-slider-label": CrowdSliderLabel, "crowd-toggle-button": CrowdToggleButton,
  "crowd-classifier": CrowdClassifier, "crowd-classifier-multi-select": CrowdClassifierMultiSelect,
  "crowd-image-classifier": CrowdImageClassifier, "crowd-image-classifier-multi-select": CrowdImageClassifierMultiSelect,
  "crowd-entity-annotation": CrowdEntityAnnotation, "crowd-bounding-box": CrowdBoundingBox, "crowd-polygon": CrowdPolygon,
  "crowd-line": CrowdLine, "crowd-polyline": CrowdPolyline, "crowd-keypoint": CrowdKeypoint,
  "crowd-semantic-segmentation": CrowdSemanticSegmentation, "crowd-instance-segmentation": CrowdInstanceSegmentation,
  "crowd-text-ranking": CrowdTextRanking, "crowd-question-answer-generation": CrowdQuestionAnswerGeneration,
  "crowd-rekognition-detect-moderation-labels": CrowdRekognitionDetectModerationLabels,
  "crowd-textract-analyze-document": CrowdTextractAnalyzeDocument,
  // handloop's own preference elements (docs/templates.md, "Preference elements")
  "hl-comparison-choice": HlComparisonChoice, "hl-comparison-rank": HlComparisonRank,
  "hl-comparison-likert": HlComparisonLikert, "hl-likert": HlLikert, "hl-thumbs": HlThumbs,
  "hl-response-edit": HlResponseEdit, "hl-conversation": HlConversation
};

// A page that names the library twice (under two URLs) gets one set of elements.
if (!customElements.get("crowd-form")) {
  listenToPage();
  Object.keys(ELEMENTS).forEach(function (tag) { customElements.define(tag, ELEMENTS[tag]); });
  announceWhenReady();

  // Helper tags are plain blocks; giving them a display keeps templates' layout as on AWS.
  const helperStyle = document.createElement("style");
  helperStyle.textContent = "short-instructions,full-instructions,classification-target,short-summary,detailed-instructions," +
    "positive-example,negative-example,classification-reasons-container{display:block}full-instructions:not([slot]){margin:8px 0}" +
    "crowd-form{display:block}body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}";
  (document.head || document.documentElement).appendChild(helperStyle);

  window.handloopCrowd = { parseLiteral: parseLiteral, lenient: lenient, elements: Object.keys(ELEMENTS) };
}
